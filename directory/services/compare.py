"""Side-by-side comparison of up to four public clinics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from directory import quality
from directory.extensions import db
from directory.models import Clinic, ResultCase
from directory.services import search as search_service
from directory.services.clinics import best_first, is_public_clinic
from directory.services.scores import cached_explanation

MAX_COMPARED = 4


@dataclass(frozen=True)
class Column:
    clinic: Clinic
    explanation: quality.Explanation
    results: int
    long_term_results: int


def columns(slugs: list[str]) -> list[Column]:
    """The public clinics among `slugs` (first four, duplicates dropped), best first."""
    wanted = list(dict.fromkeys(s for s in slugs if s and len(s) <= 120))[:MAX_COMPARED]
    if not wanted:
        return []
    clinics = best_first(select(Clinic).where(Clinic.slug.in_(wanted), is_public_clinic()))
    out = []
    for c in clinics:
        counts = db.session.execute(
            select(
                func.count(ResultCase.id),
                func.count(ResultCase.id).filter(ResultCase.months_since_last_session >= 12),
            ).where(ResultCase.clinic_id == c.id, ResultCase.status == "published")
        ).one()
        out.append(Column(c, cached_explanation(c), counts[0], counts[1]))
    return out


def find_by_name(name: str) -> Clinic | None:
    """The public clinic whose name best matches `name`, typos tolerated, through
    the search index; while search is unavailable, the best public clinic whose
    name contains `name` (case-insensitive)."""
    try:
        return search_service.find_by_name(name)
    except search_service.Unavailable:
        pass
    name = name.strip().lower()[:120]
    if not name:
        return None
    like = "%" + name.replace("%", "").replace("_", "") + "%"
    stmt = select(Clinic).where(is_public_clinic(), func.lower(Clinic.name).like(like))
    return next(iter(best_first(stmt, 1)), None)
