"""The tests' one mail reader: the .eml files the file mail backend writes.

`source` is an app (its MAIL_DIR), a browser test's live server (its instance's
mail folder) or a folder. Files are named in the order the mail was staged.
"""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

LINK = re.compile(r"https?://[^\s]+")


def _folder(source) -> Path:
    if hasattr(source, "config"):
        return Path(source.config["MAIL_DIR"])
    return Path(getattr(source, "mail_dir", source))


def messages(source) -> list[EmailMessage]:
    """Every mail written so far, oldest first."""
    folder = _folder(source)
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"))
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def text(msg: EmailMessage) -> str:
    """Subject and body, as the recipient reads them."""
    return f"{msg['Subject']}\n\n{msg.get_content()}"


def texts(source) -> list[str]:
    """`text` of every mail written so far, oldest first."""
    return [text(m) for m in messages(source)]


def last_to(source, address: str) -> EmailMessage:
    found = [m for m in messages(source) if m["To"] == address]
    assert found, f"no mail to {address}"
    return found[-1]


def link_in(msg: EmailMessage, path_part: str) -> str:
    body = msg.get_content()
    for url in LINK.findall(body):
        if path_part in url:
            return url
    raise AssertionError(f"no link with {path_part} in mail")


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
