"""The clinic's one public reply to a testimonial, written and edited by its owner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.models import ClinicReply, Review, User
from directory.services import Invalid, InvalidState, NotAllowed, NotFound
from directory.services.profiles import is_owner

MIN_TEXT = 2
MAX_TEXT = 3000


def review_of(clinic, review_id: int) -> Review:
    """A published testimonial of this clinic, or NotFound."""
    review = db.session.get(Review, review_id)
    if review is None or review.clinic_id != clinic.id or review.status != "published":
        raise NotFound("There is no such published testimonial for this clinic.")
    return review


def reviews_for_owner(clinic, limit: int = 100) -> list[Review]:
    stmt = (
        select(Review)
        .where(Review.clinic_id == clinic.id, Review.status == "published")
        .options(selectinload(Review.reply), selectinload(Review.author))
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def save(review: Review, *, by: User, text: str) -> ClinicReply:
    """Create the reply or replace its text. Only the clinic's owner may; the
    testimonial must be published. Raises NotAllowed, InvalidState, Invalid."""
    clinic = review.clinic
    if not is_owner(clinic, by):
        raise NotAllowed("Only the clinic's owner can reply to its testimonials.")
    if review.status != "published":
        raise InvalidState("Only published testimonials can be answered.")
    text = (text or "").replace("\x00", "").strip()
    if len(text) < MIN_TEXT:
        raise Invalid("Write a reply.")
    if len(text) > MAX_TEXT:
        raise Invalid(f"A reply has at most {MAX_TEXT} characters.")
    reply = db.session.execute(
        select(ClinicReply).where(ClinicReply.review_id == review.id)
    ).scalar_one_or_none()
    if reply is None:
        reply = ClinicReply(
            review_id=review.id, clinic_id=clinic.id, author_id=by.id, text=text, status="published"
        )
        db.session.add(reply)
    else:
        if reply.status != "published":
            raise InvalidState("This reply was removed by a moderator and cannot be edited.")
        reply.text = text
        reply.author_id = by.id
    db.session.flush()
    return reply
