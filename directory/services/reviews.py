"""Writing testimonials and follow-ups; what an author sees of their own items.

Nothing written here is public: a testimonial, its photos and its follow-ups
start as "pending" and only services.moderation publishes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.models import Clinic, ClinicClaim, FollowUp, Review, User
from directory.services import Invalid, InvalidState, NotAllowed, media, scores, similarity
from directory.services.origin import Origin
from directory.services.origin import record as record_origin
from directory.vocab import (
    CURRENCIES,
    DIMENSIONS,
    GOALS,
    HAIR_COLOURS,
    HEALING_MIN_MONTHS,
    RUBRIC,
    SERVICES,
    SKIN_TYPES,
    STAGES,
)

MIN_TEXT = 80
MAX_TEXT = 5000
MAX_PHOTOS = 6
MAX_FOLLOWUP_PHOTOS = 4
MAX_SESSIONS = 30
MAX_PRICE = 1_000_000
# Mail providers shared by millions: a shared domain says nothing about a link to a clinic.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "yandex.ru",
        "web.de",
        "example.com",
    }
)


class DuplicateReview(InvalidState):
    """The user already wrote a testimonial for this clinic."""


@dataclass
class ReviewInput:
    treatment_type: str
    sessions: int
    last_session_month: date
    overall: int
    text: str
    ratings: dict[str, int | None] = field(default_factory=dict)
    practitioner_id: int | None = None
    needed_correction: bool = False
    price_paid: int | None = None
    price_currency: str | None = None
    title: str | None = None
    # The author's own case (optional), in the vocabulary of result cases.
    stage: str | None = None
    skin_type: int | None = None
    hair_colour: str | None = None
    goal: str | None = None


# --- who may review -------------------------------------------------------------------


def _domain_of_url(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.") or None


def _email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower().rstrip(".") or None


def linked_to_clinic(user: User, clinic: Clinic) -> str | None:
    """Why the user counts as linked to the clinic (and may not review it), or None."""
    if clinic.owner_id is not None and clinic.owner_id == user.id:
        return "You own this clinic, so you cannot write a testimonial about it."
    claim = db.session.execute(
        select(ClinicClaim.id).where(
            ClinicClaim.clinic_id == clinic.id,
            ClinicClaim.user_id == user.id,
            ClinicClaim.status.in_(("pending", "approved")),
        )
    ).first()
    if claim is not None:
        return "You have claimed this clinic, so you cannot write a testimonial about it."
    mine = _email_domain(user.email)
    if mine and mine not in FREE_MAIL_DOMAINS:
        theirs = {_domain_of_url(clinic.website), _email_domain(clinic.email)} - {None}
        if any(mine == d or mine.endswith("." + d) for d in theirs):
            return (
                "Your e-mail address belongs to this clinic's domain, so you cannot write "
                "a testimonial about it."
            )
    return None


def check_can_review(user: User, clinic: Clinic) -> None:
    """Raises NotAllowed (unverified e-mail, linked to the clinic) or DuplicateReview."""
    if not user.email_verified:
        raise NotAllowed(
            "Please confirm your e-mail address before writing a testimonial: "
            "follow the link in the message we sent you."
        )
    reason = linked_to_clinic(user, clinic)
    if reason:
        raise NotAllowed(reason)
    if existing_for(user, clinic) is not None:
        raise DuplicateReview(
            "You have already written a testimonial for this clinic. Add a follow-up to it instead."
        )


def existing_for(user: User, clinic: Clinic) -> Review | None:
    return db.session.execute(
        select(Review).where(Review.clinic_id == clinic.id, Review.author_id == user.id)
    ).scalar_one_or_none()


def months_since(month: date, today: date) -> int:
    return (today.year - month.year) * 12 + (today.month - month.month)


# --- writing ----------------------------------------------------------------------------


def _validate(data: ReviewInput, clinic: Clinic, today: date) -> None:
    """Invalid with the first thing wrong, in the order of the form."""
    if data.treatment_type not in SERVICES:
        raise Invalid("Choose the treatment you had.")
    if not 1 <= int(data.sessions) <= MAX_SESSIONS:
        raise Invalid(f"The number of sessions must be between 1 and {MAX_SESSIONS}.")
    _check_month(data.last_session_month, today)
    _check_ratings(data, today)
    text = (data.text or "").strip()
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        raise Invalid(f"The testimonial must be between {MIN_TEXT} and {MAX_TEXT} characters.")
    _check_price(data)
    _optional(data.stage, STAGES, "Choose your hair-loss stage from the list, or leave it empty.")
    _optional(data.skin_type, SKIN_TYPES, "Choose your skin type from the list, or leave it empty.")
    _optional(
        data.hair_colour, HAIR_COLOURS, "Choose your hair colour from the list, or leave it empty."
    )
    _optional(data.goal, GOALS, "Choose your goal from the list, or leave it empty.")
    practitioners = {p.id for p in clinic.active_practitioners}
    _optional(
        data.practitioner_id, practitioners, "Choose one of the clinic's practitioners, or none."
    )


def _check_month(month: date, today: date) -> None:
    if month.day != 1:
        raise Invalid("The month of the last session is a month, not a day.")
    if month > today.replace(day=1):
        raise Invalid("The last session cannot be in the future.")
    if month.year < 1990:
        raise Invalid("The last session is too long ago.")


def _check_ratings(data: ReviewInput, today: date) -> None:
    if data.overall is None:
        raise Invalid("Rate the overall result.")
    for key in RUBRIC:
        value = data.overall if key == "overall" else data.ratings.get(key)
        if value is not None and value not in (1, 2, 3, 4, 5):
            raise Invalid("Ratings go from 1 to 5.")
    healing_too_soon = months_since(data.last_session_month, today) < HEALING_MIN_MONTHS
    if data.ratings.get("healing") is not None and healing_too_soon:
        raise Invalid(
            f"Healing can only be rated {HEALING_MIN_MONTHS} or more months after the "
            "last session. Add it later in a follow-up."
        )


def _check_price(data: ReviewInput) -> None:
    if data.price_paid is None:
        return
    if not 0 <= data.price_paid <= MAX_PRICE:
        raise Invalid("The price paid must be a whole amount between 0 and 1,000,000.")
    if data.price_currency not in CURRENCIES:
        raise Invalid("Choose the currency of the price paid.")


def _optional(value, allowed, message: str) -> None:
    """Invalid(message) unless the optional field is empty or one of `allowed`."""
    if value is not None and value not in allowed:
        raise Invalid(message)


def _checked_photos(photos: list[bytes], consent: bool, most: int, too_many: str) -> list[bytes]:
    if len(photos) > most:
        raise Invalid(too_many)
    if photos and not consent:
        raise Invalid("Confirm that the person shown agreed to the photos being published.")
    return photos


def _store_photos(photos: list[bytes], review: Review, by: User, consent: bool) -> list:
    """The photos of a testimonial or its follow-up, through the photo intake."""
    owner = {"uploader_id": by.id, "review_id": review.id, "clinic_id": review.clinic_id}
    return [media.ingest(data, kind="review", consent=consent, **owner) for data in photos]


def submit(
    clinic: Clinic,
    *,
    by: User,
    data: ReviewInput,
    photos: list[bytes] | None = None,
    consent: bool = False,
    origin: Origin | str | None = None,
    today: date | None = None,
) -> Review:
    """Stage a pending testimonial with its photos, the origin it was sent from
    (services.origin) and its text's near-duplicates (services.similarity).

    Raises NotAllowed (unverified, linked to the clinic), DuplicateReview (one per
    user per clinic, also under a race: the database constraint decides),
    Invalid / media.InvalidUpload (bad fields or photos; nothing is left staged).
    """
    today = today or datetime.now(UTC).date()
    if isinstance(origin, str):  # a network hash alone (tests, imports)
        origin = Origin(address_hash=None, network_hash=origin)
    if not clinic.is_public:
        raise NotAllowed("This clinic does not accept testimonials.")
    check_can_review(by, clinic)
    _validate(data, clinic, today)
    photos = _checked_photos(
        [p for p in (photos or []) if p is not None],
        consent,
        MAX_PHOTOS,
        f"Add at most {MAX_PHOTOS} photos.",
    )
    review = Review(
        clinic_id=clinic.id,
        author_id=by.id,
        practitioner_id=data.practitioner_id,
        treatment_type=data.treatment_type,
        sessions=int(data.sessions),
        last_session_month=data.last_session_month,
        overall=data.overall,
        needed_correction=bool(data.needed_correction),
        price_paid=data.price_paid,
        price_currency=data.price_currency if data.price_paid is not None else None,
        title=(data.title or "").strip()[:140] or None,
        text=data.text.strip(),
        status="pending",
        origin_hash=origin.network_hash if origin else None,
        stage=data.stage,
        skin_type=data.skin_type,
        hair_colour=data.hair_colour,
        goal=data.goal,
        **{k: data.ratings.get(k) for k in DIMENSIONS},
    )
    try:
        # A savepoint that flushes: the unique constraint answers races.
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:
        raise DuplicateReview(
            "You have already written a testimonial for this clinic. Add a follow-up to it instead."
        ) from None
    _store_photos(photos, review, by, consent)
    record_origin(by, "review", item_type="review", item_id=review.id, origin=origin)
    similarity.index_text("review", review.id, similarity.text_of(review))
    db.session.flush()
    return review


def can_follow_up(review: Review, today: date | None = None) -> bool:
    today = today or datetime.now(UTC).date()
    return months_since(review.last_session_month, today) >= HEALING_MIN_MONTHS


def add_followup(
    review: Review,
    *,
    by: User,
    text: str,
    healing: int | None = None,
    needed_correction: bool = False,
    today: date | None = None,
    photos: list[bytes] | None = None,
    consent: bool = False,
    origin: Origin | None = None,
) -> FollowUp:
    """Stage a pending follow-up by the review's author, 6+ months after the last session,
    with optional photos (healed, long-term) through the same photo intake; they are
    published with the follow-up."""
    today = today or datetime.now(UTC).date()
    if review.author_id is None or review.author_id != by.id:
        raise NotAllowed("Only the author can add a follow-up to a testimonial.")
    if review.status != "published":
        raise InvalidState("Follow-ups can be added once the testimonial is published.")
    if not can_follow_up(review, today):
        raise InvalidState(
            f"A follow-up can be added {HEALING_MIN_MONTHS} months after the last session."
        )
    waiting = db.session.execute(
        select(FollowUp.id).where(FollowUp.review_id == review.id, FollowUp.status == "pending")
    ).first()
    if waiting is not None:
        raise InvalidState("Your previous follow-up is still waiting for a moderator.")
    if healing is not None and healing not in (1, 2, 3, 4, 5):
        raise Invalid("Ratings go from 1 to 5.")
    text = (text or "").strip()
    if not 20 <= len(text) <= MAX_TEXT:
        raise Invalid(f"The follow-up must be between 20 and {MAX_TEXT} characters.")
    photos = _checked_photos(
        [p for p in (photos or []) if p],
        consent,
        MAX_FOLLOWUP_PHOTOS,
        f"Add at most {MAX_FOLLOWUP_PHOTOS} photos to a follow-up.",
    )
    fu = FollowUp(
        review_id=review.id,
        healing=healing,
        needed_correction=bool(needed_correction),
        text=text,
        status="pending",
    )
    db.session.add(fu)
    db.session.flush()
    for photo in _store_photos(photos, review, by, consent):
        photo.followup_id = fu.id
    db.session.flush()
    record_origin(by, "followup", item_type="followup", item_id=fu.id, origin=origin)
    return fu


def pending_followup(review: Review) -> FollowUp | None:
    """The author's follow-up still waiting for a moderator, if any."""
    return db.session.execute(
        select(FollowUp).where(FollowUp.review_id == review.id, FollowUp.status == "pending")
    ).scalar_one_or_none()


def delete(review: Review, *, by: User) -> None:
    """The author deletes their testimonial: rows, photo files, and the score."""
    if review.author_id is None or review.author_id != by.id:
        raise NotAllowed("Only the author can delete this testimonial.")
    clinic = db.session.get(Clinic, review.clinic_id)
    was_public = review.status == "published"
    for photo in list(review.photos):
        media.delete_photo(photo)
    for fu in list(review.followups):
        db.session.delete(fu)
    if review.reply is not None:
        db.session.delete(review.reply)
    db.session.delete(review)
    db.session.flush()
    if clinic is not None and was_public:
        scores.recompute_clinic(clinic)


# --- reading --------------------------------------------------------------------------


def unpublished_for(user, clinic: Clinic) -> Review | None:
    """The user's own testimonial for the clinic when the public cannot see it yet
    (pending, rejected, removed, hidden): shown to them alone on the clinic page."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    review = db.session.execute(
        select(Review)
        .where(Review.clinic_id == clinic.id, Review.author_id == user.id)
        .options(selectinload(Review.photos), selectinload(Review.followups))
    ).scalar_one_or_none()
    if review is None or review.is_public:
        return None
    return review
