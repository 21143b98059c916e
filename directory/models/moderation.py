from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db

from ._base import UTCDateTime, created_at_column
from .statuses import AppealStatus, ReportStatus, check

# What moderation decides on; item_type columns below hold one of these.
ITEM_TYPES = (
    "review",
    "followup",
    "photo",
    "result_case",
    "claim",
    "clinic",
    "report",
    "reply",
    "appeal",
    "user",
)


class Report(db.Model):
    """A user's report of published content or of a clinic."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_target", "target_type", "target_id"),
        check(ReportStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    # The clinic the reporter owns, when a clinic's owner files it (counted per clinic).
    by_clinic_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.OPEN.value)
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModerationDecision(db.Model):
    """Append-only audit log of every moderation decision."""

    __tablename__ = "moderation_decisions"
    __table_args__ = (
        Index("ix_moderation_decisions_item", "item_type", "item_id"),
        Index("ix_moderation_decisions_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL for automated decisions and, after account deletion, pseudonymised
    # to actor_label only.
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(80))
    item_type: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int] = mapped_column(Integer)
    clinic_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="SET NULL"), index=True
    )
    # The user the decision is about (the item's author), told of it.
    subject_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(30))
    reason_code: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str] = mapped_column(Text)
    previous_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str | None] = mapped_column(String(20))
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()
    # When the item entered the queue, for the time-to-decision figures.
    item_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    moderator = relationship("User", foreign_keys=[moderator_id])


class AuditRowImmutable(Exception):
    pass


@event.listens_for(ModerationDecision, "before_update")
def _no_update(mapper, connection, target):  # pragma: no cover - exercised by tests
    # Pseudonymisation on account deletion only clears the actor/subject links
    # (ON DELETE SET NULL happens in the database, not through the ORM).
    raise AuditRowImmutable("moderation decisions are append-only")


@event.listens_for(ModerationDecision, "before_delete")
def _no_delete(mapper, connection, target):  # pragma: no cover - exercised by tests
    raise AuditRowImmutable("moderation decisions are append-only")


class Appeal(db.Model):
    """An author's one appeal against a decision on their item."""

    __tablename__ = "appeals"
    __table_args__ = (
        UniqueConstraint("item_type", "item_id", name="uq_appeals_once_per_item"),
        check(AppealStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("moderation_decisions.id"))
    item_type: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int] = mapped_column(Integer)
    appellant_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=AppealStatus.OPEN.value)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    decision = relationship("ModerationDecision")


class QueueHold(db.Model):
    """A moderator working on a queue item, so that a second moderator does not take
    the same one. A hold lapses after services.moderation.HOLD_MINUTES."""

    __tablename__ = "queue_holds"
    __table_args__ = (UniqueConstraint("item_type", "item_id", name="uq_queue_holds_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int] = mapped_column(Integer)
    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    taken_at: Mapped[datetime] = created_at_column()

    moderator = relationship("User")
