from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db
from directory.vocab import RUBRIC

from ._base import UTCDateTime, created_at_column, utcnow
from .statuses import ItemStatus, ReplyStatus, check

_RATING_CHECKS = tuple(
    CheckConstraint(f"{k} IS NULL OR ({k} >= 1 AND {k} <= 5)", name=f"{k}_1_to_5") for k in RUBRIC
)


class Review(db.Model):
    """A testimonial about one clinic by one user."""

    # What the author wrote: the columns every copy of a testimonial carries (its
    # public record, its author's data export), in this order.
    CONTENT_FIELDS: ClassVar[tuple[str, ...]] = (
        "practitioner_id",
        "treatment_type",
        "sessions",
        "last_session_month",
        *RUBRIC,
        "needed_correction",
        "price_paid",
        "price_currency",
        "title",
        "text",
    )

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("clinic_id", "author_id", name="uq_reviews_one_per_user_per_clinic"),
        Index("ix_reviews_clinic_status_created", "clinic_id", "status", "created_at"),
        # The moderation queue pages through pending testimonials by age.
        Index("ix_reviews_status_created", "status", "created_at"),
        *_RATING_CHECKS,
        check(ItemStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    # NULL once the author deleted their account and chose to keep it anonymised.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL"), index=True
    )
    treatment_type: Mapped[str] = mapped_column(String(20))
    sessions: Mapped[int] = mapped_column(Integer)
    last_session_month: Mapped[date] = mapped_column(Date)  # first day of the month
    overall: Mapped[int] = mapped_column(Integer)
    realism: Mapped[int | None] = mapped_column(Integer)
    hairline: Mapped[int | None] = mapped_column(Integer)
    pigment: Mapped[int | None] = mapped_column(Integer)
    dots: Mapped[int | None] = mapped_column(Integer)
    healing: Mapped[int | None] = mapped_column(Integer)
    care: Mapped[int | None] = mapped_column(Integer)
    needed_correction: Mapped[bool] = mapped_column(Boolean, default=False)
    price_paid: Mapped[int | None] = mapped_column(Integer)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    title: Mapped[str | None] = mapped_column(String(140))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.PENDING.value)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verification_note: Mapped[str | None] = mapped_column(Text)
    # Hidden from the public while a report about illegal content or personal data is examined.
    hidden_pending_report: Mapped[bool] = mapped_column(Boolean, default=False)
    # Keyed hash of the network the review was sent from (never the address itself).
    origin_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The author's own case (optional; the vocabulary of result cases): what makes
    # "for cases like yours" possible.
    stage: Mapped[str | None] = mapped_column(String(20))  # vocab.STAGES key
    skin_type: Mapped[int | None] = mapped_column(Integer)  # Fitzpatrick 1-6
    hair_colour: Mapped[str | None] = mapped_column(String(20))  # vocab.HAIR_COLOURS key
    goal: Mapped[str | None] = mapped_column(String(20))  # vocab.GOALS key
    # Proof of treatment (invoice, booking, aftercare sheet): a file under
    # instance/proofs/ seen only by moderators, deleted once a moderator decided.
    proof_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    proof_mimetype: Mapped[str | None] = mapped_column(String(40))
    proof_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proof_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    clinic = relationship("Clinic")
    author = relationship("User", foreign_keys=[author_id])
    practitioner = relationship("Practitioner")
    photos = relationship("Photo", order_by="Photo.id", passive_deletes=True)
    followups = relationship(
        "FollowUp", back_populates="review", order_by="FollowUp.created_at", passive_deletes=True
    )
    reply = relationship(
        "ClinicReply", back_populates="review", uselist=False, passive_deletes=True
    )

    @property
    def is_public(self) -> bool:
        return self.status == ItemStatus.PUBLISHED and not self.hidden_pending_report

    @property
    def has_case(self) -> bool:
        return any(v is not None for v in (self.stage, self.skin_type, self.hair_colour, self.goal))

    def ratings(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in RUBRIC if getattr(self, k) is not None}


class FollowUp(db.Model):
    """Later news on how a result has aged, moderated like the review itself."""

    __tablename__ = "followups"
    __table_args__ = (
        CheckConstraint(
            "healing IS NULL OR (healing >= 1 AND healing <= 5)", name="healing_1_to_5"
        ),
        check(ItemStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    healing: Mapped[int | None] = mapped_column(Integer)
    needed_correction: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.PENDING.value)
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    review = relationship("Review", back_populates="followups")
    photos = relationship("Photo", order_by="Photo.id", viewonly=True)


class ClinicReply(db.Model):
    """The clinic owner's one public answer to a review."""

    __tablename__ = "clinic_replies"
    __table_args__ = (check(ReplyStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), unique=True
    )
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ReplyStatus.PUBLISHED.value)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    review = relationship("Review", back_populates="reply")
