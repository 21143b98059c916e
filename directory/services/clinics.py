"""Reading clinics as the public sees them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from directory import quality
from directory.extensions import db
from directory.models import Clinic, FollowUp, Practitioner, ResultCase, Review, User
from directory.services.scores import public_reviews_query
from directory.vocab import PUBLIC_CLINIC_STATUSES


def is_public_clinic():
    return Clinic.status.in_(PUBLIC_CLINIC_STATUSES)


# The database sorts by what it compares exactly (score, count); quality.ranking_key
# finishes the order (name, id) in Python, so no database collation can change it.
_SQL_QUALITY_ORDER = (
    Clinic.quality_score.is_(None),
    Clinic.quality_score.desc(),
    Clinic.review_count.desc(),
    Clinic.id,
)


def _quality_key(clinic: Clinic) -> tuple:
    return quality.ranking_key(clinic.quality_score, clinic.review_count, clinic.name, clinic.id)


def _ties_with(clinic: Clinic):
    """Clinics level with `clinic` on score and testimonial count."""
    score = Clinic.quality_score
    same_score = score.is_(None) if clinic.quality_score is None else score == clinic.quality_score
    return same_score & (Clinic.review_count == clinic.review_count)


def best_first(stmt, limit: int | None = None) -> list[Clinic]:
    """The clinics of `stmt` in the quality order (quality.ranking_key), the first
    `limit` of them (all without a limit). Price is never part of any order."""
    if limit is None:
        return sorted(db.session.execute(stmt).scalars(), key=_quality_key)
    if limit <= 0:
        return []
    rows = list(db.session.execute(stmt.order_by(*_SQL_QUALITY_ORDER).limit(limit + 1)).scalars())
    last = rows[limit - 1] if len(rows) > limit else None
    if last is not None and _quality_key(last)[:2] == _quality_key(rows[limit])[:2]:
        # A tie across the cut: the name decides, so read every clinic level with it.
        seen = [c.id for c in rows]
        rows += db.session.execute(stmt.where(_ties_with(last), Clinic.id.not_in(seen))).scalars()
    return sorted(rows, key=_quality_key)[:limit]


def best_rated(limit: int = 8) -> list[Clinic]:
    stmt = select(Clinic).where(is_public_clinic(), Clinic.quality_score.is_not(None))
    return best_first(stmt, limit)


def best_rated_ids(limit: int = 8) -> list[int]:
    return [c.id for c in best_rated(limit)]


def popular_cities(limit: int = 12) -> list[tuple[str, str, int]]:
    """(city, country, number of public clinics), most clinics first."""
    stmt = (
        select(Clinic.city, Clinic.country, func.count(Clinic.id))
        .where(is_public_clinic())
        .group_by(Clinic.city, Clinic.country)
        .order_by(func.count(Clinic.id).desc(), Clinic.city)
        .limit(limit)
    )
    return [tuple(row) for row in db.session.execute(stmt)]


def list_countries() -> list[str]:
    stmt = select(Clinic.country).where(is_public_clinic()).distinct().order_by(Clinic.country)
    return list(db.session.execute(stmt).scalars())


def get_public(slug: str) -> Clinic | None:
    """The clinic if the public may see it, with its practitioners loaded."""
    if len(slug) > 120:
        return None
    stmt = (
        select(Clinic)
        .where(Clinic.slug == slug, is_public_clinic())
        .options(joinedload(Clinic.practitioners))  # a few rows: one statement, not two
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def _reviews_for_page(clinic: Clinic):
    return (
        public_reviews_query(clinic.id)
        .options(
            # Cards show the author's and practitioner's names only (never load a
            # password hash or a TOTP secret to render a public page).
            joinedload(Review.author).load_only(User.id, User.display_name),
            joinedload(Review.practitioner).load_only(Practitioner.id, Practitioner.name),
            joinedload(Review.reply),
            # Follow-ups show their own photos: one statement for all of them.
            selectinload(Review.followups).selectinload(FollowUp.photos),
        )
        .order_by(Review.created_at.desc(), Review.id.desc())
    )


def public_reviews(clinic: Clinic, page: int, per_page: int):
    return db.paginate(_reviews_for_page(clinic), page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class Latest:
    """The newest published testimonials and how many there are in all."""

    items: list[Review]
    total: int


def latest_reviews(clinic: Clinic, n: int) -> Latest:
    """The clinic page's first testimonials; the total comes from the cached count."""
    items = list(db.session.execute(_reviews_for_page(clinic).limit(n)).unique().scalars())
    return Latest(items, clinic.review_count)


# What showing a result case reads with it: its photos and practitioner.
RESULT_CASE_LOADS = (
    joinedload(ResultCase.before_photo),
    joinedload(ResultCase.after_photo),
    joinedload(ResultCase.healed_photo),
    joinedload(ResultCase.practitioner),
)


def public_results_query(clinic_id: int):
    return (
        select(ResultCase)
        .where(ResultCase.clinic_id == clinic_id, ResultCase.status == "published")
        .options(*RESULT_CASE_LOADS)
        .order_by(ResultCase.published_at.desc(), ResultCase.id.desc())
    )


def _filtered_results(clinic: Clinic, filters: dict):
    stmt = public_results_query(clinic.id)
    for key in ("stage", "skin_type", "hair_colour", "goal"):
        if filters.get(key) is not None:
            stmt = stmt.where(getattr(ResultCase, key) == filters[key])
    age = filters.get("age")
    if age == "fresh":
        stmt = stmt.where(ResultCase.months_since_last_session < 1)
    elif age == "healed":
        stmt = stmt.where(ResultCase.months_since_last_session.between(1, 11))
    elif age == "long_term":
        stmt = stmt.where(ResultCase.months_since_last_session >= 12)
    if filters.get("healed_only"):
        stmt = stmt.where(ResultCase.months_since_last_session >= 1)
    return stmt


def public_results_page(clinic: Clinic, page: int, per_page: int, **filters):
    """A page of the clinic's published result cases (the same filters as the list)."""
    return db.paginate(
        _filtered_results(clinic, filters), page=page, per_page=per_page, error_out=False
    )


def active_practitioners(clinic: Clinic) -> list[Practitioner]:
    return clinic.active_practitioners
