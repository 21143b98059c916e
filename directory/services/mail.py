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
from datetime import UTC, datetime
from email.message import EmailMessage

from flask import current_app

from directory.database import listen_on_session
from directory.extensions import db
from directory.models import OutgoingMail

log = logging.getLogger(__name__)

_COMMITTED_KEY = "mail.committed"
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
    listen_on_session(
        {
            "after_flush": _after_flush,
            "after_commit": _after_commit,
            "after_rollback": _after_rollback,
            "after_transaction_end": _after_transaction_end,
        }
    )


def _after_flush(session, _ctx) -> None:
    ids = [o.id for o in session.new if isinstance(o, OutgoingMail)]
    if ids:
        session.info.setdefault(_SESSION_KEY, []).extend(ids)


def _after_rollback(session) -> None:
    session.info.pop(_SESSION_KEY, None)
    session.info.pop(_COMMITTED_KEY, None)


def _after_commit(session) -> None:
    # Also fired when a savepoint (begin_nested) commits, while the unit of work is
    # still open: delivering then would wait on the write lock the session itself
    # holds (SQLite) or miss the uncommitted row (PostgreSQL). Only note it here.
    session.info[_COMMITTED_KEY] = True


def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return  # a savepoint or a flush's subtransaction: the outer one goes on
    committed = session.info.pop(_COMMITTED_KEY, False)
    ids = session.info.pop(_SESSION_KEY, None)
    if committed and ids:
        dispatch(ids)  # the outermost transaction committed and let its connection go


def dispatch(ids: list[int]) -> None:
    """Hand committed mail on (never raises: the sweep retries what is left)."""
    cfg = current_app.config
    try:
        if cfg.get("MAIL_BACKEND", "file") == "file" and cfg.get("MAIL_DELIVER_IN_REQUEST", True):
            from directory import mailer

            for mail_id in ids:
                mailer.deliver(mail_id)
            return
        from directory import jobs

        for mail_id in ids:
            jobs.deliver_mail(mail_id)
    except Exception:  # noqa: BLE001 - the change is saved; the row waits for the sweep
        log.exception("handing on mail %s failed; the worker's sweep will retry", ids)
