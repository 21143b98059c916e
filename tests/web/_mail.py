"""Reading the .eml files the mail service writes (tests only)."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

LINK = re.compile(r"https?://[^\s]+")


def messages(app) -> list[email.message.EmailMessage]:
    folder = Path(app.config["MAIL_DIR"])
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"))
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def last_to(app, address: str):
    found = [m for m in messages(app) if m["To"] == address]
    assert found, f"no mail to {address}"
    return found[-1]


def link_in(msg, path_part: str) -> str:
    body = msg.get_content()
    for url in LINK.findall(body):
        if path_part in url:
            return url
    raise AssertionError(f"no link with {path_part} in mail")


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
