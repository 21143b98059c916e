"""Delivering the mail that services.mail staged (see its docstring): claim with a
lease, send, mark sent; retries with back-off; the sweep of due mail. Outside
services/ because it commits its own short transactions."""

from __future__ import annotations

import logging
import os
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from directory.extensions import db
from directory.models import OutgoingMail
from directory.services.mail import build

log = logging.getLogger("directory.services.mail")


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
