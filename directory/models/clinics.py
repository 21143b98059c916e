from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import db
from directory.vocab import PUBLIC_CLINIC_STATUSES, SERVICES

from ._base import UTCDateTime, created_at_column, utcnow
from .statuses import ClaimStatus, ClinicStatus, check


class ClinicFacts:
    """What a clinic's own columns say, for the model and for services.pagedata's
    plain records alike."""

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_CLINIC_STATUSES

    @property
    def is_rated(self) -> bool:
        return self.quality_score is not None

    @property
    def service_labels(self) -> list[str]:
        return [SERVICES[s] for s in (self.services or ()) if s in SERVICES]

    @property
    def active_practitioners(self) -> list:
        return [p for p in self.practitioners if p.retired_at is None]


class Clinic(ClinicFacts, db.Model):
    __tablename__ = "clinics"
    __table_args__ = (
        Index("ix_clinics_status_quality", "status", "quality_score"),
        Index("ix_clinics_city", "city"),
        Index("ix_clinics_country", "country"),
        check(ClinicStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_min: Mapped[int | None] = mapped_column(Integer)
    price_max: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    year_founded: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=ClinicStatus.LISTED.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Cached quality figures, written only by services.scores.recompute_clinic().
    quality_score: Mapped[float | None] = mapped_column(Float)
    effective_weight: Mapped[float] = mapped_column(Float, default=0.0)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
    verified_count: Mapped[int] = mapped_column(Integer, default=0)
    correction_count: Mapped[int] = mapped_column(Integer, default=0)
    healed_count: Mapped[int] = mapped_column(Integer, default=0)
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    # Mean rating per rubric dimension of the published testimonials (explains the score).
    dimension_means: Mapped[dict | None] = mapped_column(JSON)
    # Per published testimonial with an author's case: [weight, score, stage, skin
    # type, hair colour, goal], for like-for-like scores (services.casescores).
    case_evidence: Mapped[list | None] = mapped_column(JSON)
    # How many testimonials count less and why, e.g. {"coordinated": 2} (explains the score).
    down_weighted: Mapped[dict | None] = mapped_column(JSON)
    # The established median a provisional clinic's score is held at (quality.provisional_cap).
    score_cap: Mapped[float | None] = mapped_column(Float)

    owner = relationship("User", foreign_keys=[owner_id])
    practitioners = relationship(
        "Practitioner", back_populates="clinic", order_by="Practitioner.name"
    )

    def __repr__(self) -> str:
        return f"<Clinic {self.slug}>"


class Practitioner(db.Model):
    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    years_practice: Mapped[int | None] = mapped_column(Integer)
    training: Mapped[str | None] = mapped_column(Text)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    quality_score: Mapped[float | None] = mapped_column(Float)
    effective_weight: Mapped[float] = mapped_column(Float, default=0.0)
    review_count: Mapped[int] = mapped_column(Integer, default=0)

    clinic = relationship("Clinic", back_populates="practitioners")


class ClinicClaim(db.Model):
    __tablename__ = "clinic_claims"
    __table_args__ = (check(ClaimStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role_at_clinic: Mapped[str] = mapped_column(String(120))
    business_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    evidence_links: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.PENDING.value)
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Control of the business e-mail: a one-time code is mailed there (only its hash
    # is kept); the queue says "code confirmed" only once the claimant typed it back.
    email_code_hash: Mapped[str | None] = mapped_column(String(64))
    email_code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    clinic = relationship("Clinic")
    user = relationship("User")


class ClinicChange(db.Model):
    """One field changed on a clinic profile: the history moderators can read."""

    __tablename__ = "clinic_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class ClinicViewDay(db.Model):
    """Profile views per clinic per day; nothing about the visitor is kept."""

    __tablename__ = "clinic_view_days"
    __table_args__ = (UniqueConstraint("clinic_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    views: Mapped[int] = mapped_column(Integer, default=0)


class ClinicScoreMonth(db.Model):
    """The clinic's quality score as it stood in each month (latest value wins)."""

    __tablename__ = "clinic_score_months"
    __table_args__ = (UniqueConstraint("clinic_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    quality_score: Mapped[float | None] = mapped_column(Float)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
