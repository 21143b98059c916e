"""Rows written with a change and acted on after its commit by the job worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import db

from ._base import UTCDateTime, created_at_column, utcnow


class OutgoingMail(db.Model):
    """One e-mail, staged in the same transaction as the change it reports.

    A rollback discards it with the change; after the commit the job worker
    delivers it (retrying with back-off). The body is cleared once sent, since
    it may hold a sign-in or reset link.
    """

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # pending -> sending (claimed, lease until claimed_until) -> sent | failed
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReminderSent(db.Model):
    """A scheduled reminder (healing follow-up, touch-up) already mailed for a testimonial."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("review_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at_column()
