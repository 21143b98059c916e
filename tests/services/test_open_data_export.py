"""`flask export-open-data`: a dated, documented dump of everything public, from
which quality.py alone recomputes every published score."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from directory import demo, quality, services
from directory.extensions import db
from directory.models import Clinic, Practitioner, Review, User
from directory.services import scores

AS_OF = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECRET = "ZZSECRET"


def rows(folder: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (folder / name).read_text().splitlines()]


def recompute_from_dump(folder: Path) -> dict[tuple, quality.Explanation]:
    """What anyone can do with the dump and quality.py: nothing of the site's code else."""
    as_of = datetime.fromisoformat(
        json.loads((folder / "manifest.json").read_text())["as_of"].replace("Z", "+00:00")
    )
    facts: dict[tuple, list[quality.ReviewFacts]] = {}
    for r in rows(folder, "score_inputs.jsonl"):
        item = quality.ReviewFacts(
            overall=r["overall"],
            ratings=r["ratings"],
            needed_correction=r["needed_correction"],
            verified=r["verified"],
            has_published_photos=r["has_published_photos"],
            written_at=datetime.fromisoformat(r["written_at"].replace("Z", "+00:00")),
            last_session=datetime.fromisoformat(r["last_session"]).date()
            if r["last_session"]
            else None,
            down_weighted=tuple(r["down_weighted"]),
        )
        facts.setdefault(("clinic", r["clinic_id"]), []).append(item)
        if r["practitioner_id"] is not None:
            facts.setdefault(("practitioner", r["practitioner_id"]), []).append(item)
    out = {}
    for s in rows(folder, "scores.jsonl"):
        key = (s["kind"], s["clinic_id"] if s["kind"] == "clinic" else s["practitioner_id"])
        out[key] = quality.explain(facts.get(key, []), as_of)
    # Provisional clinics are held at the median of the established ones.
    established = quality.median(
        e.score
        for (kind, _), e in out.items()
        if kind == "clinic" and e.score is not None and e.published >= quality.ESTABLISHED_MIN
    )
    for key, e in out.items():
        if key[0] == "clinic":
            out[key] = quality.provisional_cap(e, established)
    return out


def test_dump_recomputes_to_the_published_scores_and_holds_nothing_private(app, runner, tmp_path):
    with app.app_context():
        demo.seed(n_clinics=10, seed_value=5, log=lambda *a: None)
        # Hidden things that must not be exported.
        hidden = db.session.execute(db.select(Clinic).order_by(Clinic.id.desc())).scalars().first()
        hidden.status = "suspended"
        hidden.name = f"{SECRET} suspended clinic"
        visible = (
            db.session.execute(
                db.select(Review).where(Review.status == "published").order_by(Review.id)
            )
            .scalars()
            .first()
        )
        visible.hidden_pending_report = True
        visible.text = f"{SECRET} under examination"
        for r in db.session.execute(db.select(Review).where(Review.status == "pending")).scalars():
            r.text = f"{SECRET} pending text"
        # A testimonial from an account under 30 days old counts less (trust rules).
        newcomer = (
            db.session.execute(
                db.select(Review)
                .where(
                    Review.status == "published",
                    Review.verified_at.is_(None),
                    Review.clinic_id != hidden.id,
                )
                .order_by(Review.id.desc())
            )
            .scalars()
            .first()
        )
        newcomer.author.created_at = newcomer.created_at - timedelta(days=2)
        db.session.flush()
        scores.recompute_all(AS_OF)  # the site's figures at the dump's time
        services.commit()
        site = {
            c.id: c.quality_score
            for c in db.session.execute(db.select(Clinic).where(Clinic.id != hidden.id)).scalars()
        }
        site_practitioners = {
            p.id: p.quality_score
            for p in db.session.execute(
                db.select(Practitioner).where(
                    Practitioner.clinic_id != hidden.id, Practitioner.retired_at.is_(None)
                )
            ).scalars()
        }
        personal = []
        for u in db.session.execute(db.select(User)).scalars():
            personal += [u.email, u.display_name]
        origins = [h for h in db.session.execute(db.select(Review.origin_hash)).scalars() if h]

    result = runner.invoke(
        args=["export-open-data", "--out", str(tmp_path), "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "open-data-2026-12-01"
    assert f"Wrote {folder}" in result.output

    # Documented and checkable.
    readme = (folder / "README.md").read_text()
    assert "2026-12-01T12:00:00Z" in readme and "score_inputs.jsonl" in readme
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, meta in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"]
        assert data.count(b"\n") == meta["rows"]

    # The recomputation: every clinic and practitioner score, from the dump alone.
    recomputed = recompute_from_dump(folder)
    published = rows(folder, "scores.jsonl")
    assert len(published) == len(site) + len(site_practitioners)
    rated = 0
    for s in published:
        key = (s["kind"], s["clinic_id"] if s["kind"] == "clinic" else s["practitioner_id"])
        exp = recomputed[key]
        assert exp.score == s["score"], key
        assert exp.effective_weight == s["effective_weight"]
        assert exp.published == s["published"] and exp.verified == s["verified"]
        assert exp.corrections == s["corrections"] and exp.healed == s["healed"]
        assert exp.dimension_means == s["dimension_means"]
        assert dict(exp.down_weighted) == s["down_weighted"]
        assert exp.capped_at == s["capped_at"]
        # ... and they are the numbers the site shows.
        if s["kind"] == "clinic":
            assert s["score"] == site[s["clinic_id"]]
        else:
            assert s["score"] == site_practitioners[s["practitioner_id"]]
        rated += s["score"] is not None
    assert rated >= 10
    assert any(r["down_weighted"] == ["new account"] for r in rows(folder, "score_inputs.jsonl"))
    kinds = [s["kind"] for s in published]
    capped = sum(s.get("capped_at") is not None for s in published)
    down = sum(bool(r["down_weighted"]) for r in rows(folder, "score_inputs.jsonl"))
    print(
        f"\nrecomputed from the dump with quality.py: {kinds.count('clinic')} clinic and "
        f"{kinds.count('practitioner')} practitioner scores ({rated} rated, {capped} held at "
        f"the established median, {down} inputs down-weighted), all equal to the published "
        "and the site's figures"
    )

    # Everything public is there; nothing else.
    clinics = rows(folder, "clinics.jsonl")
    assert {c["id"] for c in clinics} == set(site)
    # The testimonial hidden while a report is examined still counts (as facts only).
    assert len(rows(folder, "testimonials.jsonl")) == len(rows(folder, "score_inputs.jsonl")) - 1
    assert rows(folder, "results.jsonl")
    text = "".join((folder / name).read_text() for name in manifest["files"])
    assert SECRET not in text
    for value in personal + origins:
        assert f'"{value}"' not in text, value
    assert '"author"' not in text and '"email"' not in text


def test_export_refuses_a_bad_time(runner, tmp_path):
    result = runner.invoke(args=["export-open-data", "--out", str(tmp_path), "--as-of", "soon"])
    assert result.exit_code == 2
    assert "not an ISO time" in result.output
