from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db

from ._base import UTCDateTime, created_at_column
from .statuses import ItemStatus, check


class ResultCase(db.Model):
    """A before/after case published by a clinic."""

    __tablename__ = "result_cases"
    __table_args__ = (
        Index("ix_result_cases_clinic_status", "clinic_id", "status", "created_at"),
        check(ItemStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL")
    )
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    before_photo_id: Mapped[int | None] = mapped_column(
        ForeignKey("photos.id", ondelete="SET NULL")
    )
    after_photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    healed_photo_id: Mapped[int | None] = mapped_column(
        ForeignKey("photos.id", ondelete="SET NULL")
    )
    title: Mapped[str | None] = mapped_column(String(160))
    notes: Mapped[str | None] = mapped_column(Text)
    treatment_type: Mapped[str] = mapped_column(String(20))  # vocab.SERVICES key
    sessions: Mapped[int] = mapped_column(Integer)
    months_since_last_session: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))  # vocab.STAGES key
    skin_type: Mapped[int] = mapped_column(Integer)  # Fitzpatrick 1-6
    hair_colour: Mapped[str] = mapped_column(String(20))
    goal: Mapped[str] = mapped_column(String(20))
    consent_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.PENDING.value)
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    clinic = relationship("Clinic")
    practitioner = relationship("Practitioner")
    before_photo = relationship("Photo", foreign_keys=[before_photo_id])
    after_photo = relationship("Photo", foreign_keys=[after_photo_id])
    healed_photo = relationship("Photo", foreign_keys=[healed_photo_id])

    @property
    def age_label(self) -> str:
        """fresh (< 1 month), healed (1-11 months) or long_term (>= 12 months)."""
        if self.months_since_last_session < 1:
            return "fresh"
        if self.months_since_last_session < 12:
            return "healed"
        return "long_term"
