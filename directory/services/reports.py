"""Reports of published content by logged-in users with a confirmed address.

A reported item stays visible while a moderator examines it, unless the reason
is one of vocab.HIDING_REPORT_REASONS (illegal content, personal data): then a
testimonial is hidden from the public at once (DSA-style), but the score keeps
counting it — only a moderator's decision on the report changes a score or a
rank, so a flood of reports moves nothing. An account may have at most
MAX_OPEN_PER_ACCOUNT reports open at once (the route also limits reports per
account and per address). A report filed by a clinic's owner is counted against
that clinic, and how many were upheld is public. The moderator sees who reports
(`reporter_profiles`): account age, reports filed and upheld, and links to the
reported clinic or its rivals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select

from directory import search
from directory.extensions import db
from directory.models import Clinic, Report, Review, User
from directory.services import Invalid, InvalidState, NotAllowed, NotFound, signals
from directory.services.moderation import target_of
from directory.services.origin import Origin
from directory.services.origin import record as record_origin
from directory.vocab import HIDING_REPORT_REASONS, REPORT_REASONS

REPORTABLE = ("review", "photo", "result_case")
MAX_OPEN_PER_ACCOUNT = 10


def is_public_target(target) -> bool:
    from directory.services import media

    item = target.item
    if target.clinic is None or not target.clinic.is_public:
        return False
    if target.item_type == "review":
        return item.is_public
    if target.item_type == "photo":
        return media.visible_to(item, None)
    return item.status == "published"


def file(
    target_type: str,
    target_id: int,
    *,
    by: User,
    reason: str,
    text: str = "",
    origin: Origin | None = None,
) -> Report:
    """Stage a report. Raises NotAllowed (unconfirmed address, own item), NotFound
    (unknown or not public), Invalid, InvalidState (already reported by this user and
    still open, or too many open reports). Never changes a score."""
    if not by.email_verified:
        raise NotAllowed(
            "Please confirm your e-mail address before reporting: follow the link in the "
            "message we sent you."
        )
    if target_type not in REPORTABLE:
        raise NotFound("Unknown kind of item.")
    target = target_of(target_type, target_id)
    if not is_public_target(target):
        raise NotFound("There is no such published item.")
    if reason not in REPORT_REASONS:
        raise Invalid("Choose a reason for the report.")
    text = (text or "").strip()
    if len(text) > 2000:
        raise Invalid("Keep the explanation under 2,000 characters.")
    if target.author_id is not None and target.author_id == by.id:
        raise NotAllowed("You cannot report your own item; you can delete it instead.")
    dup = db.session.execute(
        select(Report.id).where(
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.reporter_id == by.id,
            Report.status == "open",
        )
    ).first()
    if dup is not None:
        raise InvalidState("You have already reported this; a moderator is looking at it.")
    open_count = db.session.execute(
        select(func.count(Report.id)).where(Report.reporter_id == by.id, Report.status == "open")
    ).scalar_one()
    if open_count >= MAX_OPEN_PER_ACCOUNT:
        raise InvalidState(
            f"You have {open_count} reports waiting for a moderator; please wait for "
            "their decisions before reporting more."
        )
    own_clinic = db.session.execute(
        select(Clinic.id).where(Clinic.owner_id == by.id).order_by(Clinic.id).limit(1)
    ).scalar_one_or_none()
    report = Report(
        reporter_id=by.id,
        target_type=target_type,
        target_id=target_id,
        by_clinic_id=own_clinic,
        reason=reason,
        text=text,
        status="open",
    )
    db.session.add(report)
    if reason in HIDING_REPORT_REASONS and target_type == "review":
        # Hidden from the public while examined; the score still counts it.
        target.item.hidden_pending_report = True
        search.mark_dirty(target.clinic.id)
    db.session.flush()
    record_origin(by, "report", item_type="report", item_id=report.id, origin=origin)
    return report


@dataclass(frozen=True)
class ReporterProfile:
    """What a moderator sees of who filed a report."""

    user_id: int | None
    account_days: int | None
    email_verified: bool
    filed: int
    upheld: int
    dismissed: int
    owns_reported_clinic: bool
    owns_rival: str | None  # name of a rival clinic the reporter owns
    reviewed_rivals: int  # testimonials the reporter (or linked accounts) wrote on rivals
    linked_accounts: int
    reports_on_clinic: int  # open reports on this clinic by the reporter or linked accounts


def reporter_profiles(items: list[Report], targets: dict) -> dict[int, ReporterProfile]:
    """For each report, the reporter's signals (one batch of queries per page)."""
    if not items:
        return {}
    reporter_ids = {r.reporter_id for r in items if r.reporter_id is not None}
    users = {
        u.id: u for u in db.session.execute(select(User).where(User.id.in_(reporter_ids))).scalars()
    }
    counts = _report_counts(reporter_ids)
    links = signals.linked_accounts(reporter_ids)
    clinic_of = {r.id: getattr(targets.get(r.id), "clinic", None) for r in items}
    clinics = {c.id: c for c in clinic_of.values() if c is not None}
    rivals_of = {cid: signals.rivals_of(c) for cid, c in clinics.items()}
    now = datetime.now(UTC)
    out = {}
    for r in items:
        user, clinic = users.get(r.reporter_id), clinic_of[r.id]
        linked = links.get(r.reporter_id, {}) if r.reporter_id else {}
        people = {r.reporter_id} | set(linked) if r.reporter_id else set()
        rivals = rivals_of[clinic.id] if clinic is not None else set()
        owned = _clinics_owned_by(people)
        filed, upheld, dismissed = counts.get(r.reporter_id, (0, 0, 0))
        out[r.id] = ReporterProfile(
            user_id=r.reporter_id,
            account_days=(now - user.created_at).days if user else None,
            email_verified=bool(user and user.email_verified),
            filed=int(filed),
            upheld=int(upheld),
            dismissed=int(dismissed),
            owns_reported_clinic=clinic is not None and clinic.id in owned,
            owns_rival=next((name for cid, name in owned.items() if cid in rivals), None),
            reviewed_rivals=_reviews_on(rivals, by=people),
            linked_accounts=len(linked),
            reports_on_clinic=_reports_on(clinic, by=people, among=clinic_of, items=items),
        )
    return out


def _reports_on(clinic: Clinic | None, *, by: set[int], among: dict, items: list[Report]) -> int:
    """Reports on this page, by these accounts, about this clinic (`among`: report id ->
    the reported item's clinic)."""
    if clinic is None:
        return 0
    return sum(
        1 for x in items if x.reporter_id in by and getattr(among[x.id], "id", None) == clinic.id
    )


def _report_counts(reporter_ids: set[int]) -> dict[int, tuple[int, int, int]]:
    """Reports filed, upheld and dismissed, by reporter."""
    rows = db.session.execute(
        select(
            Report.reporter_id,
            func.count(Report.id),
            func.coalesce(func.sum(case((Report.status == "upheld", 1), else_=0)), 0),
            func.coalesce(func.sum(case((Report.status == "dismissed", 1), else_=0)), 0),
        )
        .where(Report.reporter_id.in_(reporter_ids))
        .group_by(Report.reporter_id)
    )
    return {uid: (filed, upheld, dismissed) for uid, filed, upheld, dismissed in rows}


def _clinics_owned_by(people: set[int]) -> dict[int, str]:
    """Clinic id -> name of the clinics these accounts own."""
    if not people:
        return {}
    rows = db.session.execute(select(Clinic.id, Clinic.name).where(Clinic.owner_id.in_(people)))
    return dict(rows.all())


def _reviews_on(clinic_ids: set[int], *, by: set[int]) -> int:
    """Testimonials these accounts wrote about these clinics."""
    if not clinic_ids or not by:
        return 0
    stmt = select(func.count(Review.id)).where(
        Review.author_id.in_(by), Review.clinic_id.in_(clinic_ids)
    )
    return int(db.session.execute(stmt).scalar_one())
