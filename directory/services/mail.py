"""Outgoing e-mail, delivered after the commit.

`send(to, subject, body)` stages an OutgoingMail row in the caller's
transaction: a rolled-back change sends nothing, and a committed change's mail
is in the database, so it cannot be lost. After the commit (a session hook
below) the mail is handed on:

- file backend (development, tests): written at once as an .eml file under
  MAIL_DIR (fast, cannot fail for network reasons);
- smtp backend (production): a `deliver_mail` job on the queue
  (directory/jobs.py). The request never talks to the SMTP server, so SMTP
  being down never turns a saved change into an error page.

`deliver(mail_id)` claims a row with a lease, sends it and marks it sent. A
failure is retried with exponential back-off (MAIL_RETRY_BASE_S doubling up
to MAIL_RETRY_MAX_S, at most MAIL_MAX_ATTEMPTS tries). A worker killed
mid-delivery leaves a "sending" row whose lease runs out; `due_ids()` (the
worker's sweep) hands it out again. Delivery is at least once: every message
carries a Message-ID derived from its row, so a retry after a crash between
the SMTP server's "250" and our "sent" mark is recognisable as the same mail,
and the file backend writes the same file name (no duplicate at all).
"""

from __future__ import annotations

import logging
import os
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from directory.extensions import db
from directory.models import OutgoingMail

log = logging.getLogger(__name__)

_SESSION_KEY = "directory.mail_ids"


def build(to: str, subject: str, body: str, mail_id: int | None = None) -> EmailMessage:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    if mail_id is not None:
        domain = str(cfg["MAIL_FROM"]).rsplit("@", 1)[-1].strip("> ") or "localhost"
        msg["Message-ID"] = f"<mail-{mail_id}.{cfg.get('MAIL_ID_SALT', 'directory')}@{domain}>"
    # 8bit keeps links on one line (quoted-printable would wrap them); lines stay < 998.
    msg.set_content(body, cte="8bit")
    return msg


def send(to: str, subject: str, body: str) -> None:
    """Stage one plain-text message; it goes out after the caller's commit.

    Never logs the body (it may hold tokens).
    """
    db.session.add(OutgoingMail(to_addr=to, subject=subject[:300], body=body))


def external_url(path: str) -> str:
    """An absolute link on the configured canonical host (never the request's Host)."""
    return current_app.config["CANONICAL_URL"].rstrip("/") + path


# --------------------------------------------------------------------------
# After the commit.


def install_session_hooks() -> None:
    """Track staged mail per session; hand it on after commit, forget it on rollback."""
    target = db.session
    if event.contains(target, "after_flush", _after_flush):
        return
    event.listen(target, "after_flush", _after_flush)
    event.listen(target, "after_commit", _after_commit)
    event.listen(target, "after_rollback", _after_rollback)


def _after_flush(session, _ctx) -> None:
    ids = [o.id for o in session.new if isinstance(o, OutgoingMail)]
    if ids:
        session.info.setdefault(_SESSION_KEY, []).extend(ids)


def _after_rollback(session) -> None:
    session.info.pop(_SESSION_KEY, None)


def _after_commit(session) -> None:
    ids = session.info.pop(_SESSION_KEY, None)
    if ids:
        dispatch(ids)


def dispatch(ids: list[int]) -> None:
    """Hand committed mail on (never raises: the sweep retries what is left)."""
    cfg = current_app.config
    try:
        if cfg.get("MAIL_BACKEND", "file") == "file" and cfg.get("MAIL_DELIVER_IN_REQUEST", True):
            for mail_id in ids:
                deliver(mail_id)
            return
        from directory import jobs

        for mail_id in ids:
            jobs.deliver_mail(mail_id)
    except Exception:  # noqa: BLE001 - the change is saved; the row waits for the sweep
        log.exception("handing on mail %s failed; the worker's sweep will retry", ids)


# --------------------------------------------------------------------------
# Delivery.


def _now() -> datetime:
    return datetime.now(UTC)


def backoff_s(attempts: int) -> float:
    cfg = current_app.config
    base = float(cfg.get("MAIL_RETRY_BASE_S", 30))
    return min(base * 2 ** max(attempts - 1, 0), float(cfg.get("MAIL_RETRY_MAX_S", 3600)))


def deliver(mail_id: int) -> float | None:
    """Deliver one committed mail. Returns None when done (or not ours to send),
    else the delay in seconds before the next try."""
    cfg = current_app.config
    now = _now()
    lease = timedelta(seconds=float(cfg.get("MAIL_LEASE_S", 120)))
    with Session(db.engine, expire_on_commit=False) as s:
        claimed = s.execute(
            update(OutgoingMail)
            .where(
                OutgoingMail.id == mail_id,
                OutgoingMail.status == "pending",
                OutgoingMail.next_attempt_at <= now,
            )
            .values(status="sending", claimed_until=now + lease, attempts=OutgoingMail.attempts + 1)
        ).rowcount
        s.commit()
        if claimed != 1:
            return None
        row = s.get(OutgoingMail, mail_id)
        msg = build(row.to_addr, row.subject, row.body, mail_id=row.id)
        try:
            _transport(msg, row)
        except Exception as exc:  # noqa: BLE001 - any failure is retried
            attempts = row.attempts
            give_up = attempts >= int(cfg.get("MAIL_MAX_ATTEMPTS", 12))
            delay = backoff_s(attempts)
            s.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id == mail_id)
                .values(
                    status="failed" if give_up else "pending",
                    next_attempt_at=_now() + timedelta(seconds=delay),
                    claimed_until=None,
                    last_error=repr(exc)[:300],
                )
            )
            s.commit()
            log.warning(
                "mail %s attempt %s failed (%s); %s",
                mail_id,
                attempts,
                type(exc).__name__,
                "giving up" if give_up else f"retrying in {delay:.1f} s",
            )
            return None if give_up else delay
        s.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id)
            .values(status="sent", sent_at=_now(), claimed_until=None, body="", last_error=None)
        )
        s.commit()
    return None


def _transport(msg: EmailMessage, row: OutgoingMail) -> None:
    cfg = current_app.config
    if cfg.get("MAIL_BACKEND", "file") == "smtp":
        timeout = float(cfg.get("SMTP_TIMEOUT_S", 10))
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=timeout) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
            smtp.send_message(msg)
        log.info("mail sent over SMTP (#%s): %r", row.id, row.subject)
        return
    folder = cfg["MAIL_DIR"]
    os.makedirs(folder, exist_ok=True)
    created = row.created_at or _now()
    # Sorted by name = in order of staging; the same mail always gets the same name.
    name = f"{created:%Y%m%dT%H%M%S%f}-{row.id:09d}.eml"
    path = os.path.join(folder, name)
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(bytes(msg))
    os.replace(tmp, path)
    log.info("mail written to %s (#%s): %r", path, row.id, row.subject)


def due_ids(limit: int = 500) -> list[int]:
    """Mail the worker should (re)try now: pending and due, or a lease that ran out
    (the worker delivering it was killed). Expired leases are released here."""
    now = _now()
    with Session(db.engine) as s:
        s.execute(
            update(OutgoingMail)
            .where(OutgoingMail.status == "sending", OutgoingMail.claimed_until < now)
            .values(status="pending", claimed_until=None)
        )
        ids = list(
            s.execute(
                select(OutgoingMail.id)
                .where(OutgoingMail.status == "pending", OutgoingMail.next_attempt_at <= now)
                .order_by(OutgoingMail.id)
                .limit(limit)
            ).scalars()
        )
        s.commit()
    return ids


def queue_depth() -> int:
    from sqlalchemy import func

    return db.session.execute(
        select(func.count())
        .select_from(OutgoingMail)
        .where(or_(OutgoingMail.status == "pending", OutgoingMail.status == "sending"))
    ).scalar_one()
