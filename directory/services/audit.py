"""The append-only moderation log. Every decision on any item goes through
`record()`; nothing updates or deletes its rows."""

from __future__ import annotations

from datetime import datetime

from directory.extensions import db
from directory.models import ModerationDecision, User
from directory.services import Invalid, NotAllowed
from directory.vocab import REASON_CODES

MIN_STATEMENT = 10


def ensure_may_decide(by: User | None, clinic, submitter_id: int | None) -> None:
    """The one rule for every queue: a moderator decides, never on their own item nor on
    an item of a clinic they own. Raises NotAllowed."""
    if by is None or not by.is_moderator:
        raise NotAllowed("Only moderators can decide on this.")
    if submitter_id is not None and submitter_id == by.id:
        raise NotAllowed(
            "You cannot decide on your own submission; your own item goes to another moderator."
        )
    if clinic is not None and clinic.owner_id is not None and clinic.owner_id == by.id:
        raise NotAllowed("You cannot decide on an item of a clinic you own.")


def record(
    *,
    by: User | None,
    item_type: str,
    item_id: int,
    action: str,
    reason_code: str,
    statement: str,
    previous_status: str | None,
    new_status: str | None,
    clinic_id: int | None = None,
    subject_user_id: int | None = None,
    automated: bool = False,
    item_submitted_at: datetime | None = None,
) -> ModerationDecision:
    """Stage one audit row. Raises Invalid for an unknown reason code or an empty statement."""
    if reason_code not in REASON_CODES:
        raise Invalid(f"Unknown reason code “{reason_code}”.")
    statement = (statement or "").strip()
    if len(statement) < MIN_STATEMENT:
        raise Invalid("Give a statement of reasons (at least 10 characters).")
    row = ModerationDecision(
        moderator_id=by.id if by is not None else None,
        actor_label="automated" if automated or by is None else f"moderator #{by.id}",
        item_type=item_type,
        item_id=item_id,
        action=action,
        reason_code=reason_code,
        statement=statement,
        previous_status=previous_status,
        new_status=new_status,
        clinic_id=clinic_id,
        subject_user_id=subject_user_id,
        automated=automated,
        item_submitted_at=item_submitted_at,
    )
    db.session.add(row)
    return row


def record_account(
    user: User,
    *,
    by: User | None,
    action: str,
    statement: str,
    previous_status: str | None,
    new_status: str | None,
) -> ModerationDecision:
    """Stage the audit row of a change to a user's account (its role, its second
    factor); without `by` the site did it (automated)."""
    return record(
        by=by,
        item_type="user",
        item_id=user.id,
        action=action,
        reason_code="other",
        statement=statement,
        previous_status=previous_status,
        new_status=new_status,
        subject_user_id=user.id,
        automated=by is None,
    )
