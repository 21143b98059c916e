"""Outgoing e-mail. In development and tests every message is written as an
.eml file under instance/mail/; in production it goes over SMTP. Messages are
sent after the request's commit would be better, but a lost notification is
preferable to a lost decision, so callers send after staging their change."""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def build(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    # 8bit keeps links on one line (quoted-printable would wrap them); lines stay < 998.
    msg.set_content(body, cte="8bit")
    return msg


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text message. Never logs the body (it may hold tokens)."""
    msg = build(to, subject, body)
    cfg = current_app.config
    if cfg.get("MAIL_BACKEND", "file") == "smtp":
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=10) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
            smtp.send_message(msg)
        log.info("mail sent over SMTP: %r", subject)
        return
    folder = cfg["MAIL_DIR"]
    os.makedirs(folder, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(bytes(msg))
    log.info("mail written to %s: %r", path, subject)


def external_url(path: str) -> str:
    """An absolute link on the configured canonical host (never the request's Host)."""
    return current_app.config["CANONICAL_URL"].rstrip("/") + path
