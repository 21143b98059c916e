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
        "down_weighted": dict(exp.down_weighted),
        "capped_at": exp.capped_at,
        "plain_mean_overall": exp.dimension_means.get("overall"),
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
        "down_weighted": sorted(facts.down_weighted),
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
        clinic_scores: list[tuple[dict, quality.Explanation]] = []
        for clinic in opendata.all_public_clinics():
            row = opendata.clinic_detail(clinic)
            row.pop("practitioners")
            put("clinics.jsonl", row)
            inputs = opendata.score_inputs(clinic)
            for inp in inputs:
                put(
                    "score_inputs.jsonl",
                    facts_dict(inp.review_id, inp.clinic_id, inp.practitioner_id, inp.facts),
                )
            exp = quality.explain([i.facts for i in inputs], as_of)
            clinic_scores.append(({"clinic_id": clinic.id, "slug": clinic.slug}, exp))
            for p in clinic.active_practitioners:
                put(
                    "practitioners.jsonl", {"clinic_id": clinic.id, **opendata.practitioner_dict(p)}
                )
                pexp = quality.explain(
                    [i.facts for i in inputs if i.practitioner_id == p.id], as_of
                )
                put(
                    "scores.jsonl",
                    {
                        "kind": "practitioner",
                        "clinic_id": clinic.id,
                        "practitioner_id": p.id,
                        "as_of": opendata.iso(as_of),
                        **explanation_dict(pexp),
                    },
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
        # As services.scores.recompute_all: established clinics first, then the
        # provisional ones held at the median of the established scores.
        median = quality.median(
            e.score
            for _, e in clinic_scores
            if e.score is not None and e.published >= quality.ESTABLISHED_MIN
        )
        for ident, exp in clinic_scores:
            exp = quality.provisional_cap(exp, median)
            put(
                "scores.jsonl",
                {"kind": "clinic", **ident, "as_of": opendata.iso(as_of), **explanation_dict(exp)},
            )
    finally:
        for handle in handles.values():
            handle.close()

    manifest = {
        "as_of": opendata.iso(as_of),
        "established_median": median,
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
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
