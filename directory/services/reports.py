"""Reports of published content by logged-in users.

A reported item stays visible while a moderator examines it, unless the reason
is one of vocab.HIDING_REPORT_REASONS (illegal content, personal data): then a
testimonial is hidden at once and the clinic's score recomputed. A report filed
by a clinic's owner is counted against that clinic, and how many were upheld is
public.
"""

from __future__ import annotations

from sqlalchemy import case, func, select

from directory.extensions import db
from directory.models import Clinic, Report, User
from directory.services import Invalid, InvalidState, NotAllowed, NotFound, scores
from directory.services.moderation import target_of
from directory.vocab import HIDING_REPORT_REASONS, REPORT_REASONS

REPORTABLE = ("review", "photo", "result_case")


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


def file(target_type: str, target_id: int, *, by: User, reason: str, text: str = "") -> Report:
    """Stage a report. Raises NotFound (unknown or not public), Invalid, InvalidState
    (already reported by this user and still open), NotAllowed (own item)."""
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
        target.item.hidden_pending_report = True
        scores.recompute_clinic(target.clinic)
    db.session.flush()
    return report


def counts_for_clinic(clinic: Clinic) -> tuple[int, int]:
    """(reports filed by this clinic, of which upheld)."""
    filed, upheld = db.session.execute(
        select(
            func.count(Report.id),
            func.coalesce(func.sum(case((Report.status == "upheld", 1), else_=0)), 0),
        ).where(Report.by_clinic_id == clinic.id)
    ).one()
    return int(filed), int(upheld)
