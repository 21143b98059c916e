"""Public data as plain dicts: one representation for the API, the feeds, the
structured data of the pages and the open-data export.

Every function here starts from rows the public may already see (loaded by the
visibility-checked readers in services/clinics.py) and only drops further
unpublished children (follow-ups, replies, photos). Nothing personal goes out:
a testimonial's author is the display name the pages show, never an e-mail,
account id or network hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from directory import quality, vocab
from directory.extensions import db
from directory.models import Clinic, ClinicReply, FollowUp, Photo, Practitioner, ResultCase, Review
from directory.services import clinics as clinic_service
from directory.services.scores import cached_explanation, facts_for, scored_reviews_query

PHOTO_SIZES = ("web", "thumb")
FORMER_MEMBER = "a former member"


# --- what is public below a public item ------------------------------------


def public_followups(review: Review) -> list[FollowUp]:
    return [f for f in review.followups if f.status == "published"]


def public_reply(review: Review) -> ClinicReply | None:
    reply = review.reply
    return reply if reply is not None and reply.status == "published" else None


def public_review_photos(review: Review) -> list[Photo]:
    return [p for p in review.photos if p.status == "published"]


def author_label(review: Review) -> str:
    """The author as the pages show them."""
    return review.author.display_name if review.author is not None else FORMER_MEMBER


# --- single items by id, visibility-checked ----------------------------------


def _published(model, *where, options=()):
    """Published items of public clinics (testimonials: not hidden by a report)."""
    return (
        select(model)
        .join(Clinic, Clinic.id == model.clinic_id)
        .where(model.status == "published", clinic_service.is_public_clinic(), *where)
        .options(*options)
    )


def public_review(review_id: int) -> Review | None:
    """A published, unhidden testimonial of a public clinic, or None."""
    stmt = _published(
        Review,
        Review.id == review_id,
        Review.hidden_pending_report.is_(False),
        options=(
            selectinload(Review.followups),
            selectinload(Review.photos),
            joinedload(Review.author),
            joinedload(Review.practitioner),
            joinedload(Review.reply),
            joinedload(Review.clinic),
        ),
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def public_result(case_id: int) -> ResultCase | None:
    """A published result case of a public clinic, or None."""
    stmt = _published(
        ResultCase,
        ResultCase.id == case_id,
        options=(*clinic_service.RESULT_CASE_LOADS, joinedload(ResultCase.clinic)),
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def newest_reviews(limit: int = 50, clinic: Clinic | None = None) -> list[Review]:
    """The most recently published public testimonials (site-wide or of one clinic)."""
    stmt = (
        _published(
            Review,
            Review.hidden_pending_report.is_(False),
            options=(
                joinedload(Review.author),
                joinedload(Review.clinic),
                joinedload(Review.practitioner),
            ),
        )
        .order_by(
            func.coalesce(Review.published_at, Review.created_at).desc(),
            Review.id.desc(),
        )
        .limit(limit)
    )
    if clinic is not None:
        stmt = stmt.where(Review.clinic_id == clinic.id)
    return list(db.session.execute(stmt).unique().scalars())


def all_public_clinics() -> list[Clinic]:
    stmt = (
        select(Clinic)
        .where(clinic_service.is_public_clinic())
        .options(selectinload(Clinic.practitioners))
        .order_by(Clinic.id)
    )
    return list(db.session.execute(stmt).scalars())


# --- dates ----------------------------------------------------------------


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def published_time(item) -> datetime:
    return item.published_at or item.created_at


def latest(*values: datetime | None) -> datetime | None:
    present = [v if v.tzinfo else v.replace(tzinfo=UTC) for v in values if v is not None]
    return max(present) if present else None


# --- representations ---------------------------------------------------------


def price_info(clinic: Clinic) -> dict:
    return {
        "min": clinic.price_min,
        "max": clinic.price_max,
        "currency": clinic.currency or "USD",
        "note": "Shown for information; price is never a sort key nor an input to any score.",
    }


def plain_mean(clinic: Clinic) -> float | None:
    """The plain (unweighted) mean of the published testimonials' overall ratings."""
    return (clinic.dimension_means or {}).get("overall")


def score_summary(clinic: Clinic) -> dict:
    return {
        "value": clinic.quality_score,
        "rated": clinic.quality_score is not None,
        "testimonials": clinic.review_count,
        "verified": clinic.verified_count,
        "effective_weight": clinic.effective_weight or 0.0,
        "plain_mean_overall": plain_mean(clinic),
    }


def explanation(clinic: Clinic) -> dict:
    exp = cached_explanation(clinic)
    return {
        "score": exp.score,
        "rated": exp.is_rated,
        "kind": "trust-weighted Bayesian mean of the testimonials' scores (1-5)",
        "published": exp.published,
        "verified": exp.verified,
        "effective_weight": exp.effective_weight or 0.0,
        "dimension_means": {k: v for k, v in exp.dimension_means.items() if k in vocab.RUBRIC},
        "plain_mean_overall": exp.dimension_means.get("overall"),
        "corrections": exp.corrections,
        "healed": exp.healed,
        "down_weighted": dict(exp.down_weighted),
        "capped_at": exp.capped_at,
        "prior_mean": exp.prior_mean,
        "prior_weight": exp.prior_weight,
        "results": clinic.result_count,
    }


def _attrs(obj, *names: str) -> dict:
    """Attributes published under their own names."""
    return {name: getattr(obj, name) for name in names}


def practitioner_dict(p: Practitioner) -> dict:
    return {
        **_attrs(p, "id", "name", "years_practice", "training"),
        "score": p.quality_score,
        "testimonials": p.review_count,
        "effective_weight": p.effective_weight or 0.0,
    }


def clinic_summary(clinic: Clinic) -> dict:
    return {
        **_attrs(
            clinic, "id", "slug", "name", "city", "region", "country", "latitude", "longitude"
        ),
        "services": list(clinic.services or []),
        "status": clinic.status,
        "price": price_info(clinic),
        "score": score_summary(clinic),
        "results": clinic.result_count,
        "updated_at": iso(clinic.updated_at),
    }


def clinic_detail(clinic: Clinic) -> dict:
    data = clinic_summary(clinic)
    data.update(
        {
            "description": clinic.description or "",
            **_attrs(clinic, "address", "postal_code", "phone", "website"),
            "languages": list(clinic.languages or []),
            "year_founded": clinic.year_founded,
            "explanation": explanation(clinic),
            "practitioners": [practitioner_dict(p) for p in clinic.active_practitioners],
        }
    )
    return data


def photo_urls(photo: Photo | None, url_for_photo) -> dict | None:
    """{size: url} for a published photo; None when absent or not published."""
    if photo is None or photo.status != "published":
        return None
    return {size: url_for_photo(photo.id, size) for size in PHOTO_SIZES} | {
        "width": photo.width,
        "height": photo.height,
    }


def result_dict(case: ResultCase, url_for_photo) -> dict:
    return {
        "id": case.id,
        "clinic": case.clinic.slug,
        "title": case.title,
        "notes": case.notes,
        "treatment_type": case.treatment_type,
        "sessions": case.sessions,
        "months_since_last_session": case.months_since_last_session,
        "age": case.age_label,
        "stage": case.stage,
        "skin_type": case.skin_type,
        "hair_colour": case.hair_colour,
        "goal": case.goal,
        "practitioner": (
            {"id": case.practitioner.id, "name": case.practitioner.name}
            if case.practitioner is not None
            else None
        ),
        "photos": {
            "before": photo_urls(case.before_photo, url_for_photo),
            "after": photo_urls(case.after_photo, url_for_photo),
            "healed": photo_urls(case.healed_photo, url_for_photo),
        },
        "published_at": iso(published_time(case)),
    }


def review_dict(review: Review, url_for_photo) -> dict:
    reply = public_reply(review)
    return {
        "id": review.id,
        "clinic": review.clinic.slug,
        "author": author_label(review),
        "title": review.title,
        "text": review.text,
        "treatment_type": review.treatment_type,
        "sessions": review.sessions,
        "last_session_month": review.last_session_month.strftime("%Y-%m"),
        "practitioner": (
            {"id": review.practitioner.id, "name": review.practitioner.name}
            if review.practitioner is not None
            else None
        ),
        "ratings": review.ratings(),
        "needed_correction": review.needed_correction,
        "verified": review.verified_at is not None,
        "price_paid": (
            {"amount": review.price_paid, "currency": review.price_currency}
            if review.price_paid
            else None
        ),
        "photos": [photo_urls(p, url_for_photo) for p in public_review_photos(review)],
        "followups": [
            {
                "id": f.id,
                "text": f.text,
                "healing": f.healing,
                "needed_correction": f.needed_correction,
                "published_at": iso(published_time(f)),
            }
            for f in public_followups(review)
        ],
        "reply": (
            {"id": reply.id, "text": reply.text, "updated_at": iso(reply.updated_at)}
            if reply is not None
            else None
        ),
        "written_at": iso(review.created_at),
        "published_at": iso(published_time(review)),
    }


def review_modified(review: Review) -> datetime | None:
    reply = public_reply(review)
    return latest(
        review.updated_at,
        *(published_time(f) for f in public_followups(review)),
        reply.updated_at if reply else None,
    )


# --- the score method ---------------------------------------------------------


def score_method() -> dict:
    """The constants of the quality score (quality.py), for anyone to recompute it."""
    return {
        "formula": {
            "review_score": (
                "s_r = overall_share * overall + (1 - overall_share) * mean(other dimensions "
                "given); s_r = 1 when the author reports the result needed correction or removal"
            ),
            "review_weight": (
                "w_r = trust_r * decay_r; trust_r = verified_trust if a moderator verified the "
                "treatment else unverified_trust, times photo_bonus with published photos "
                "(unless a photo matches another on the site), times the factor of each "
                "down-weight reason; decay_r = 0.5 ** (age_in_months / half_life_months), age "
                "from the day it was written, months of days_per_month days"
            ),
            "clinic_score": (
                "Q = (C * mu + sum(w_r * s_r)) / (C + sum(w_r)), rounded to 3 places; a clinic "
                "with fewer than provisional_under testimonials scores at most the median "
                "score of public clinics with established_min or more"
            ),
        },
        "prior_mean": quality.PRIOR_MEAN,
        "prior_weight": quality.PRIOR_WEIGHT,
        "overall_share": quality.OVERALL_SHARE,
        "verified_trust": quality.VERIFIED_TRUST,
        "unverified_trust": quality.UNVERIFIED_TRUST,
        "photo_bonus": quality.PHOTO_BONUS,
        "half_life_months": quality.HALF_LIFE_MONTHS,
        "days_per_month": quality.DAYS_PER_MONTH,
        "healed_months": quality.HEALED_MONTHS,
        "down_weight_factors": dict(quality.DOWN_WEIGHT_FACTORS),
        "provisional_under": quality.PROVISIONAL_UNDER,
        "established_min": quality.ESTABLISHED_MIN,
        "dimensions": list(quality.DIMENSIONS),
        "rubric": dict(vocab.RUBRIC),
        "price_is_an_input": False,
        "not_rated": "A clinic with no published testimonial is not yet rated and listed last.",
    }


# --- the inputs of the score, for the export ---------------------------------


@dataclass(frozen=True)
class ScoreInput:
    """One published testimonial as the score reads it (a testimonial hidden while a
    report is examined still counts: only a moderator's decision changes a score)."""

    review_id: int
    clinic_id: int
    practitioner_id: int | None
    facts: quality.ReviewFacts


def score_inputs(clinic: Clinic) -> list[ScoreInput]:
    """The inputs of the clinic's score, with the trust rules' down-weights applied
    exactly as services.scores.recompute_clinic applies them."""
    from directory.services import signals

    reviews = list(db.session.execute(scored_reviews_query(clinic.id)).scalars())
    weights = signals.down_weights(reviews)
    return [
        ScoreInput(r.id, r.clinic_id, r.practitioner_id, facts_for(r, weights.get(r.id, ())))
        for r in reviews
    ]


def public_counts() -> dict:
    """How much the public can see: clinics, testimonials and result cases."""
    clinics = db.session.execute(
        select(func.count(Clinic.id)).where(clinic_service.is_public_clinic())
    ).scalar_one()
    reviews = db.session.execute(
        select(func.count(Review.id))
        .join(Clinic, Clinic.id == Review.clinic_id)
        .where(
            Review.status == "published",
            Review.hidden_pending_report.is_(False),
            clinic_service.is_public_clinic(),
        )
    ).scalar_one()
    results = db.session.execute(
        select(func.count(ResultCase.id))
        .join(Clinic, Clinic.id == ResultCase.clinic_id)
        .where(ResultCase.status == "published", clinic_service.is_public_clinic())
    ).scalar_one()
    return {
        "public_clinics": clinics,
        "published_testimonials": reviews,
        "published_results": results,
    }


@dataclass(frozen=True)
class SitemapClinic:
    slug: str
    updated: datetime
    reviews_updated: datetime | None
    results_updated: datetime | None


def sitemap_clinics() -> list[SitemapClinic]:
    """Every public clinic with when its page, testimonials and results last changed."""
    review_time = func.max(func.coalesce(Review.published_at, Review.created_at))
    reviews = dict(
        db.session.execute(
            select(Review.clinic_id, review_time)
            .where(Review.status == "published", Review.hidden_pending_report.is_(False))
            .group_by(Review.clinic_id)
        ).all()
    )
    results = dict(
        db.session.execute(
            select(ResultCase.clinic_id, func.max(ResultCase.published_at))
            .where(ResultCase.status == "published")
            .group_by(ResultCase.clinic_id)
        ).all()
    )
    rows = db.session.execute(
        select(Clinic.id, Clinic.slug, Clinic.updated_at)
        .where(clinic_service.is_public_clinic())
        .order_by(Clinic.id)
    ).all()
    return [
        SitemapClinic(
            slug=slug,
            updated=_aware(updated),
            reviews_updated=_aware(reviews.get(cid)),
            results_updated=_aware(results.get(cid)),
        )
        for cid, slug, updated in rows
    ]


def _aware(value):
    """Aggregates bypass the column type: SQLite hands back naive datetimes or strings."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def last_decision_time() -> datetime | None:
    from directory.models import ModerationDecision

    return _aware(db.session.execute(select(func.max(ModerationDecision.created_at))).scalar())
