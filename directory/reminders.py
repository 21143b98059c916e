"""Scheduled reminders after a testimonial's last session (a daily job).

For each published testimonial whose author still has an account and has not
unsubscribed: an invitation to add a healing follow-up 6 and 12 months after
the last session, and a touch-up reminder about 2 years after. Each reminder
is recorded (reminders_sent, unique per testimonial and kind) in the same
transaction as its mail, so a run that is repeated, or two workers running it
at once, never sends one twice. Every mail carries an unsubscribe link that
works without logging in (a signed token naming the account).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from directory.extensions import db
from directory.models import Clinic, ReminderSent, Review, User
from directory.services import Invalid, mail

log = logging.getLogger(__name__)

KIND_TEXT = {
    "followup_6m": (
        "How has your scalp micropigmentation healed?",
        "It is about {months} months since your last session at {clinic}. Healed results "
        "help other people choose: add a short healing follow-up to your testimonial "
        "(a new photo if you like):\n\n{link}\n",
    ),
    "followup_12m": (
        "One year on: how does your scalp micropigmentation look?",
        "It is about a year since your last session at {clinic}. A follow-up after "
        "{months} months shows others how results last:\n\n{link}\n",
    ),
    "touchup_24m": (
        "Time to think about a touch-up?",
        "It is about two years since your last session at {clinic}. Pigment fades "
        "gradually and many people book a touch-up around now. You can find or compare "
        "clinics here:\n\n{link}\n",
    ),
}


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="reminders-unsubscribe")


def unsubscribe_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "e": user.email})


def user_for_token(token: str) -> User:
    """The account an unsubscribe link names; Invalid for a forged or stale link."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise Invalid("This unsubscribe link is not valid.") from exc
    user = db.session.get(User, int(data.get("u", 0))) if isinstance(data, dict) else None
    if user is None or user.email != data.get("e"):
        raise Invalid("This unsubscribe link is not valid.")
    return user


def unsubscribe(user: User) -> None:
    if user.reminders_off_at is None:
        user.reminders_off_at = datetime.now(UTC)


def due(today: date | None = None) -> list[tuple[Review, User, str]]:
    """(testimonial, author, kind) for every reminder due today and not yet sent."""
    today = today or datetime.now(UTC).date()
    months = current_app.config["REMINDER_MONTHS"]
    rows = db.session.execute(
        select(Review, User)
        .join(User, User.id == Review.author_id)
        .where(
            Review.status == "published",
            User.reminders_off_at.is_(None),
            User.email_verified_at.is_not(None),
        )
        .order_by(Review.id)
    ).all()
    out = []
    for review, user in rows:
        age = _months_between(review.last_session_month, today)
        # The latest kind whose month has come; earlier ones missed are skipped.
        reached = [k for k, m in sorted(months.items(), key=lambda kv: kv[1]) if age >= m]
        if not reached:
            continue
        kind = reached[-1]
        sent = db.session.execute(
            select(exists().where(ReminderSent.review_id == review.id, ReminderSent.kind == kind))
        ).scalar()
        if not sent:
            out.append((review, user, kind))
    return out


def send_due(today: date | None = None) -> int:
    """Stage each due reminder with its record, one commit each. Returns mails staged."""
    months = current_app.config["REMINDER_MONTHS"]
    n = 0
    for review, user, kind in due(today):
        clinic = db.session.get(Clinic, review.clinic_id)
        if kind.startswith("followup"):
            link = mail.external_url(f"/reviews/{review.id}/followup")
        else:
            link = mail.external_url("/search")
        subject, text = KIND_TEXT[kind]
        body = (
            f"Hello {user.display_name},\n\n"
            + text.format(
                months=months[kind], clinic=clinic.name if clinic else "the clinic", link=link
            )
            + "\nYou get this because you wrote a testimonial. To stop these reminders "
            "(no login needed):\n"
            + mail.external_url(f"/reminders/unsubscribe/{unsubscribe_token(user)}")
            + "\n"
        )
        try:
            db.session.add(ReminderSent(review_id=review.id, kind=kind))
            mail.send(user.email, subject, body)
            db.session.commit()
            n += 1
        except IntegrityError:
            db.session.rollback()  # another worker sent it first
    return n
