"""The clinic owner's dashboard: their clinics with views, score history, results
waiting, testimonials without a reply and reports filed; their claims; the
clinics they registered that are not yet theirs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from directory.extensions import db
from directory.models import (
    Clinic,
    ClinicClaim,
    ClinicReply,
    ClinicScoreMonth,
    ClinicViewDay,
    Report,
    ResultCase,
    Review,
    User,
)
from directory.models.statuses import ClinicStatus, ItemStatus, ReportStatus
from directory.services import newest_first


@dataclass
class ClinicPanel:
    clinic: Clinic
    views_30d: int = 0
    views_by_day: list[tuple[date, int]] = field(default_factory=list)
    score_months: list[ClinicScoreMonth] = field(default_factory=list)
    pending_results: list[ResultCase] = field(default_factory=list)
    published_results: int = 0
    unreplied: list[Review] = field(default_factory=list)
    reports_filed: int = 0
    reports_upheld: int = 0


@dataclass
class Dashboard:
    panels: list[ClinicPanel]
    claims: list[ClinicClaim]
    registered: list[Clinic]


def dashboard(user: User, today: date | None = None) -> Dashboard:
    """What the owner's dashboard shows: their clinics with figures, their claims
    and the clinics they registered that are not yet theirs."""
    today = today or datetime.now(UTC).date()
    since = today - timedelta(days=29)
    clinics = list(
        db.session.execute(
            select(Clinic).where(Clinic.owner_id == user.id).order_by(Clinic.name)
        ).scalars()
    )
    panels = []
    for clinic in clinics:
        panel = ClinicPanel(clinic=clinic)
        days = dict(
            db.session.execute(
                select(ClinicViewDay.day, ClinicViewDay.views).where(
                    ClinicViewDay.clinic_id == clinic.id, ClinicViewDay.day >= since
                )
            ).all()
        )
        panel.views_by_day = [
            (since + timedelta(days=i), days.get(since + timedelta(days=i), 0)) for i in range(30)
        ]
        panel.views_30d = sum(days.values())
        panel.score_months = list(
            db.session.execute(
                select(ClinicScoreMonth)
                .where(ClinicScoreMonth.clinic_id == clinic.id)
                .order_by(ClinicScoreMonth.month.desc())
                .limit(12)
            ).scalars()
        )
        panel.pending_results = newest_first(
            ResultCase, ResultCase.clinic_id == clinic.id, ResultCase.status == ItemStatus.PENDING
        )
        panel.published_results = clinic.result_count
        panel.unreplied = list(
            db.session.execute(
                select(Review)
                .outerjoin(ClinicReply, ClinicReply.review_id == Review.id)
                .where(
                    Review.clinic_id == clinic.id,
                    Review.status == ItemStatus.PUBLISHED,
                    ClinicReply.id.is_(None),
                )
                .order_by(Review.created_at.desc())
                .limit(5)
            ).scalars()
        )
        panel.reports_filed = db.session.execute(
            select(func.count(Report.id)).where(Report.by_clinic_id == clinic.id)
        ).scalar_one()
        panel.reports_upheld = db.session.execute(
            select(func.count(Report.id)).where(
                Report.by_clinic_id == clinic.id, Report.status == ReportStatus.UPHELD
            )
        ).scalar_one()
        panels.append(panel)
    claims = newest_first(ClinicClaim, ClinicClaim.user_id == user.id)
    registered = newest_first(
        Clinic,
        Clinic.submitted_by_id == user.id,
        Clinic.status.in_((ClinicStatus.PENDING, ClinicStatus.REJECTED)),
    )
    return Dashboard(panels=panels, claims=claims, registered=registered)
