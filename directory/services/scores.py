"""Keeps the cached quality figures on clinics and practitioners true.

`recompute_clinic` is the one function that writes them; every service that
changes an input (publishing, removing, verifying or deleting a review, a
follow-up or a review photo) calls it in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory import quality, search
from directory.extensions import db
from directory.models import Clinic, ClinicScoreMonth, Practitioner, Review
from directory.services import signals
from directory.vocab import PUBLIC_CLINIC_STATUSES


def public_reviews_query(clinic_id: int):
    """Reviews the public sees for a clinic: published and not hidden by a report."""
    return (
        select(Review)
        .where(
            Review.clinic_id == clinic_id,
            Review.status == "published",
            Review.hidden_pending_report.is_(False),
        )
        .options(selectinload(Review.followups), selectinload(Review.photos))
    )


def scored_reviews_query(clinic_id: int):
    """Reviews the score counts: every published one, including one hidden while a
    report is examined — only a moderator's decision changes a score."""
    return (
        select(Review)
        .where(Review.clinic_id == clinic_id, Review.status == "published")
        .options(selectinload(Review.followups), selectinload(Review.photos))
    )


def facts_for(review: Review, down_weighted: tuple[str, ...] = ()) -> quality.ReviewFacts:
    """A published review as the score sees it; published follow-ups update healing
    and can report a later correction; `down_weighted` comes from services.signals."""
    ratings = {k: v for k, v in review.ratings().items() if k != "overall"}
    corrected = review.needed_correction
    for fu in review.followups:
        if fu.status != "published":
            continue
        if fu.healing is not None:
            ratings["healing"] = fu.healing
        corrected = corrected or fu.needed_correction
    return quality.ReviewFacts(
        overall=review.overall,
        ratings=ratings,
        needed_correction=corrected,
        verified=review.verified_at is not None,
        has_published_photos=any(p.status == "published" for p in review.photos),
        written_at=review.created_at,
        last_session=review.last_session_month,
        down_weighted=down_weighted,
    )


def explain_reviews(
    reviews: list[Review],
    now: datetime | None = None,
    down_weighted: dict[int, tuple[str, ...]] | None = None,
) -> quality.Explanation:
    """The explanation over these published reviews; without `down_weighted` the
    trust rules are applied (services.signals.down_weights)."""
    now = now or datetime.now(UTC)
    if down_weighted is None:
        down_weighted = signals.down_weights(reviews)
    return quality.explain([facts_for(r, down_weighted.get(r.id, ())) for r in reviews], now)


def case_evidence(
    reviews: list[Review],
    now: datetime,
    down_weighted: dict[int, tuple[str, ...]] | None = None,
) -> list[list]:
    """[weight, score, stage, skin type, hair colour, goal] of each published review
    whose author gave their case: what like-for-like scores are computed from
    (services.casescores), stored on the clinic at each recompute. The same weights
    as the clinic's score (trust down-weights included). No price."""
    if down_weighted is None:
        down_weighted = signals.down_weights(reviews)
    out = []
    for r in reviews:
        if not r.has_case:
            continue
        facts = facts_for(r, down_weighted.get(r.id, ()))
        out.append(
            [
                round(quality.review_weight(facts, now), 4),
                round(quality.review_score(facts), 4),
                r.stage,
                r.skin_type,
                r.hair_colour,
                r.goal,
            ]
        )
    return out


def cached_explanation(clinic: Clinic) -> quality.Explanation:
    """The explanation stored by the last recompute (no testimonial is read)."""
    return quality.Explanation(
        score=clinic.quality_score,
        published=clinic.review_count,
        verified=clinic.verified_count,
        effective_weight=clinic.effective_weight,
        dimension_means=dict(clinic.dimension_means or {}),
        corrections=clinic.correction_count,
        healed=clinic.healed_count,
        down_weighted=dict(clinic.down_weighted or {}),
        capped_at=clinic.score_cap,
    )


def established_median(exclude: int | None = None) -> float | None:
    """The median score of public clinics with ESTABLISHED_MIN or more testimonials."""
    stmt = select(Clinic.quality_score).where(
        Clinic.review_count >= quality.ESTABLISHED_MIN,
        Clinic.quality_score.is_not(None),
        Clinic.status.in_(sorted(PUBLIC_CLINIC_STATUSES)),
    )
    if exclude is not None:
        stmt = stmt.where(Clinic.id != exclude)
    return quality.median(db.session.execute(stmt).scalars())


def recompute_all(now: datetime | None = None) -> int:
    """Recompute every clinic (ages change the weights: run daily), then the
    provisional ones again so they are held at the fresh median. Returns the count."""
    now = now or datetime.now(UTC)
    clinics = list(db.session.execute(select(Clinic)).scalars())
    for clinic in clinics:
        recompute_clinic(clinic, now)
    for clinic in clinics:
        if 0 < clinic.review_count < quality.PROVISIONAL_UNDER:
            recompute_clinic(clinic, now)
    return len(clinics)


def recompute_clinic(clinic: Clinic, now: datetime | None = None) -> quality.Explanation:
    """Recompute and store the clinic's and its practitioners' figures; mark it dirty."""
    now = now or datetime.now(UTC)
    db.session.flush()
    # populate_existing: collections loaded earlier in this session (follow-ups,
    # photos) must reflect what was just flushed.
    stmt = scored_reviews_query(clinic.id).execution_options(populate_existing=True)
    reviews = list(db.session.execute(stmt).scalars())
    weights = signals.down_weights(reviews)
    exp = explain_reviews(reviews, now, weights)
    if exp.published < quality.PROVISIONAL_UNDER:
        exp = quality.provisional_cap(exp, established_median(exclude=clinic.id))
    clinic.quality_score = exp.score
    clinic.effective_weight = exp.effective_weight
    clinic.review_count = exp.published
    clinic.verified_count = exp.verified
    clinic.correction_count = exp.corrections
    clinic.healed_count = exp.healed
    clinic.dimension_means = exp.dimension_means
    clinic.down_weighted = dict(exp.down_weighted)
    clinic.score_cap = exp.capped_at
    clinic.case_evidence = case_evidence(reviews, now, weights)

    by_practitioner: dict[int, list[Review]] = {}
    for r in reviews:
        if r.practitioner_id is not None:
            by_practitioner.setdefault(r.practitioner_id, []).append(r)
    practitioners = db.session.execute(
        select(Practitioner).where(Practitioner.clinic_id == clinic.id)
    ).scalars()
    for p in practitioners:
        pexp = explain_reviews(by_practitioner.get(p.id, []), now, weights)
        p.quality_score = pexp.score
        p.effective_weight = pexp.effective_weight
        p.review_count = pexp.published

    _record_month(clinic, now.date())
    search.mark_dirty(clinic.id)
    return exp


def _record_month(clinic: Clinic, today: date) -> None:
    month = today.replace(day=1)
    row = db.session.execute(
        select(ClinicScoreMonth).where(
            ClinicScoreMonth.clinic_id == clinic.id, ClinicScoreMonth.month == month
        )
    ).scalar_one_or_none()
    if row is None:
        row = ClinicScoreMonth(clinic_id=clinic.id, month=month)
        db.session.add(row)
    row.quality_score = clinic.quality_score
    row.review_count = clinic.review_count
