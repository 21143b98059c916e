"""The open-data dump: everything public, with the inputs of every score.

`write(folder, as_of, ...)` writes a dated folder of JSON Lines files plus a
README and a manifest. The scores in `scores.jsonl` are computed at `as_of` by
the same function the site uses (services.scores.explain_reviews over the
published testimonials), so anyone can recompute them from `score_inputs.jsonl`
with `directory/quality.py` and get the same numbers. Nothing personal is
written: no author names, accounts, e-mail addresses or network hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from directory import quality
from directory.extensions import db
from directory.models import Review
from directory.services import clinics as clinic_service
from directory.services import opendata
from directory.services.scores import explain_reviews, public_reviews_query

FILES = (
    "clinics.jsonl",
    "practitioners.jsonl",
    "scores.jsonl",
    "score_inputs.jsonl",
    "testimonials.jsonl",
    "results.jsonl",
)


@dataclass(frozen=True)
class Summary:
    folder: str
    counts: dict[str, int]


def explanation_dict(exp: quality.Explanation) -> dict:
    return {
        "score": exp.score,
        "published": exp.published,
        "verified": exp.verified,
        "effective_weight": exp.effective_weight,
        "dimension_means": exp.dimension_means,
        "corrections": exp.corrections,
        "healed": exp.healed,
    }


def facts_dict(review_id: int, clinic_id: int, practitioner_id, facts: quality.ReviewFacts):
    return {
        "review_id": review_id,
        "clinic_id": clinic_id,
        "practitioner_id": practitioner_id,
        "overall": facts.overall,
        "ratings": dict(facts.ratings),
        "needed_correction": facts.needed_correction,
        "verified": facts.verified,
        "has_published_photos": facts.has_published_photos,
        "written_at": opendata.iso(facts.written_at),
        "last_session": opendata.iso(facts.last_session),
    }


def _testimonial(review: Review, url_for_photo) -> dict:
    data = opendata.review_dict(review, url_for_photo)
    data.pop("author")  # no personal data in the dump
    data["clinic_id"] = review.clinic_id
    data["practitioner_id"] = review.practitioner_id
    data.pop("practitioner")
    return data


def write(out_dir: str, as_of: datetime, url_for_photo: Callable[[int, str], str]) -> Summary:
    """Write the dump into out_dir/open-data-YYYY-MM-DD; returns its folder and counts."""
    folder = os.path.join(out_dir, f"open-data-{as_of.date().isoformat()}")
    os.makedirs(folder, exist_ok=True)
    counts = dict.fromkeys(FILES, 0)
    handles = {name: open(os.path.join(folder, name), "w", encoding="utf-8") for name in FILES}  # noqa: SIM115

    def put(name: str, row: dict) -> None:
        handles[name].write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        counts[name] += 1

    try:
        for clinic in opendata.all_public_clinics():
            row = opendata.clinic_detail(clinic)
            row.pop("practitioners")
            put("clinics.jsonl", row)
            reviews = list(db.session.execute(public_reviews_query(clinic.id)).scalars())
            exp = explain_reviews(reviews, as_of)
            put(
                "scores.jsonl",
                {
                    "kind": "clinic",
                    "clinic_id": clinic.id,
                    "slug": clinic.slug,
                    "as_of": opendata.iso(as_of),
                    **explanation_dict(exp),
                    "plain_mean_overall": exp.dimension_means.get("overall"),
                },
            )
            by_practitioner: dict[int, list[Review]] = {}
            for inp in reviews:
                if inp.practitioner_id is not None:
                    by_practitioner.setdefault(inp.practitioner_id, []).append(inp)
            for p in clinic.active_practitioners:
                put(
                    "practitioners.jsonl", {"clinic_id": clinic.id, **opendata.practitioner_dict(p)}
                )
                pexp = explain_reviews(by_practitioner.get(p.id, []), as_of)
                put(
                    "scores.jsonl",
                    {
                        "kind": "practitioner",
                        "clinic_id": clinic.id,
                        "practitioner_id": p.id,
                        "as_of": opendata.iso(as_of),
                        **explanation_dict(pexp),
                        "plain_mean_overall": pexp.dimension_means.get("overall"),
                    },
                )
            for inp in opendata.score_inputs(clinic):
                put(
                    "score_inputs.jsonl",
                    facts_dict(inp.review_id, inp.clinic_id, inp.practitioner_id, inp.facts),
                )
            page_size = 200
            for page in range(1, 10_000):
                chunk = clinic_service.public_reviews(clinic, page, page_size)
                for review in chunk.items:
                    put("testimonials.jsonl", _testimonial(review, url_for_photo))
                if not chunk.has_next:
                    break
            for case in db.session.execute(
                clinic_service.public_results_query(clinic.id)
            ).scalars():
                row = opendata.result_dict(case, url_for_photo)
                row["clinic_id"] = clinic.id
                put("results.jsonl", row)
    finally:
        for handle in handles.values():
            handle.close()

    manifest = {
        "as_of": opendata.iso(as_of),
        "files": {
            name: {"rows": counts[name], "sha256": _sha256(os.path.join(folder, name))}
            for name in FILES
        },
        "score_method": opendata.score_method(),
    }
    with open(os.path.join(folder, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as f:
        readme = (resources.files("directory") / "data" / "open-data-README.md").read_text("utf-8")
        f.write(readme.replace("{as_of}", opendata.iso(as_of)))
    return Summary(folder, counts)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()
