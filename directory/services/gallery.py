"""/results: every published result case and testimonial photo across clinics,
filtered like the visitor's own case and ordered by each clinic's score for
that kind of case (its overall score when no case is set).

Ordering reads light rows (ids, case facts, dates); only the page shown is
loaded with its photos and clinic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import selectinload

from directory import quality
from directory.extensions import db
from directory.models import Clinic, Photo, ResultCase, Review
from directory.services import casescores
from directory.services import clinics as clinic_service
from directory.services.paging import Pager
from directory.vocab import PUBLIC_CLINIC_STATUSES

CASE_FILTERS = ("stage", "skin_type", "hair_colour", "goal")


def age_label(months: int) -> str:
    """fresh (< 1 month), healed (1-11 months) or long_term (12+), as for result cases."""
    if months < 1:
        return "fresh"
    if months < 12:
        return "healed"
    return "long_term"


def months_after(last_session: date, taken: datetime | date) -> int:
    taken = taken.date() if isinstance(taken, datetime) else taken
    return max(0, (taken.year - last_session.year) * 12 + taken.month - last_session.month)


@dataclass
class Item:
    """One gallery entry: a clinic's result case or a testimonial's photos."""

    kind: str  # "result" or "testimonial"
    id: int
    clinic: Clinic
    months: int
    case: ResultCase | None = None
    review: Review | None = None

    @property
    def age_label(self) -> str:
        return age_label(self.months)

    @property
    def facts(self):
        return self.case if self.case is not None else self.review


@dataclass
class Page(Pager):
    case_scores: dict  # clinic id -> quality.CaseScore (empty without a case)

    window = (1, 2, 3, 1)


def _age_ok(months: int, age: str | None, healed_only: bool) -> bool:
    if healed_only and months < 1:
        return False
    return age is None or age_label(months) == age


def _load(ids: list[int], stmt) -> list:
    """The rows of stmt (selecting by ids); no statement for no ids."""
    return list(db.session.execute(stmt).scalars()) if ids else []


@lru_cache(maxsize=64)
def _light_statements(by_clinic: bool, keys: tuple[str, ...]):
    """The light rows' statements (result cases, testimonials with photos) for one
    shape of filters, built once: the values are bound parameters."""
    public = Clinic.status.in_(PUBLIC_CLINIC_STATUSES)
    rc = (
        select(ResultCase.id, ResultCase.clinic_id, ResultCase.months_since_last_session)
        .join(Clinic, Clinic.id == ResultCase.clinic_id)
        .where(ResultCase.status == "published", public)
    )
    photo_public = exists().where(
        Photo.review_id == Review.id,
        Photo.status == "published",
        Photo.followup_id.is_(None),
    )
    rv = (
        select(Review.id, Review.clinic_id, Review.last_session_month, Review.created_at)
        .join(Clinic, Clinic.id == Review.clinic_id)
        .where(
            Review.status == "published",
            Review.hidden_pending_report.is_(False),
            public,
            photo_public,
        )
    )
    if by_clinic:
        rc = rc.where(ResultCase.clinic_id == bindparam("clinic_id"))
        rv = rv.where(Review.clinic_id == bindparam("clinic_id"))
    for key in keys:
        rc = rc.where(getattr(ResultCase, key) == bindparam(key))
        rv = rv.where(getattr(Review, key) == bindparam(key))
    return rc, rv


def _light_rows(filters: dict, clinic_id: int | None) -> list[tuple[str, int, int, int]]:
    """(kind, id, clinic id, months) of every published result case and testimonial
    with photos that passes the filters, in no particular order."""
    keys = tuple(key for key in CASE_FILTERS if filters.get(key) is not None)
    rc, rv = _light_statements(clinic_id is not None, keys)
    params = {key: filters[key] for key in keys}
    if clinic_id is not None:
        params["clinic_id"] = clinic_id
    age, healed_only = filters.get("age"), bool(filters.get("healed_only"))
    light = []
    for cid, of_clinic, months in db.session.execute(rc, params):
        if _age_ok(months, age, healed_only):
            light.append(("result", cid, of_clinic, months))
    for rid, of_clinic, last, written in db.session.execute(rv, params):
        months = months_after(last, written)
        if _age_ok(months, age, healed_only):
            light.append(("testimonial", rid, of_clinic, months))
    return light


def gallery(
    filters: dict,
    case: quality.Case | None,
    page: int,
    per_page: int,
    clinic_id: int | None = None,
) -> Page:
    """A page of the gallery, across clinics or of one clinic. `filters`: stage,
    skin_type, hair_colour, goal (exact), age (fresh/healed/long_term), healed_only."""
    light = _light_rows(filters, clinic_id)
    clinic_ids = {row[2] for row in light}
    clinics = {c.id: c for c in _load(clinic_ids, select(Clinic).where(Clinic.id.in_(clinic_ids)))}
    case_scores = casescores.scores_for(clinics.values(), case)

    def clinic_key(clinic: Clinic) -> tuple:
        if case_scores:
            cs = case_scores[clinic.id]
            return quality.case_ranking_key(cs, clinic.review_count, clinic.name)
        return quality.ranking_key(clinic.quality_score, clinic.review_count, clinic.name)

    order = {cid: clinic_key(c) for cid, c in clinics.items()}
    # Best clinic for the case first; within a clinic, healed and long-term results
    # before fresh ones, result cases before testimonial photos, newest id first.
    light.sort(key=lambda r: (order[r[2]], r[3] < 1, r[0] != "result", -r[1]))
    total = len(light)
    chosen = light[(page - 1) * per_page : page * per_page]

    case_ids = [r[1] for r in chosen if r[0] == "result"]
    review_ids = [r[1] for r in chosen if r[0] == "testimonial"]
    cases = {
        c.id: c
        for c in _load(
            case_ids,
            select(ResultCase)
            .where(ResultCase.id.in_(case_ids))
            .options(*clinic_service.RESULT_CASE_LOADS),
        )
    }
    reviews = {
        r.id: r
        for r in _load(
            review_ids,
            select(Review)
            .where(Review.id.in_(review_ids))
            .options(
                selectinload(Review.photos),
                selectinload(Review.author),
                selectinload(Review.practitioner),
            ),
        )
    }
    items = []
    for kind, iid, clinic_id, months in chosen:
        items.append(
            Item(
                kind=kind,
                id=iid,
                clinic=clinics[clinic_id],
                months=months,
                case=cases.get(iid) if kind == "result" else None,
                review=reviews.get(iid) if kind == "testimonial" else None,
            )
        )
    return Page(items, total, page, per_page, case_scores)
