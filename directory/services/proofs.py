"""Proof of treatment: an invoice, booking confirmation or aftercare sheet the author
attaches so that a moderator can mark the treatment verified.

The file is seen only by moderators (never by the clinic or the public), kept
under instance/proofs/ with a random name, and deleted once a moderator has
decided on the testimonial (verified, published without verifying, rejected or
removed); the author is told the decision and its reason by the moderation mail.
Photos are re-encoded like every upload (no metadata survives); PDFs are kept
as sent, served only as a download to moderators, inside a sandbox.
"""

from __future__ import annotations

import io
import os
import secrets
from datetime import UTC, datetime

from flask import current_app

from directory.extensions import db
from directory.models import Review, User
from directory.services import Invalid, NotAllowed, media

MAX_PROOF_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


class InvalidProof(Invalid):
    """The proof file is not one we accept; the message says why."""


def proof_dir() -> str:
    path = os.path.join(current_app.instance_path, "proofs")
    os.makedirs(path, exist_ok=True)
    return path


def attach(review: Review, data: bytes, *, by: User) -> None:
    """Store the author's proof for a moderator; replaces a proof still waiting.
    Raises NotAllowed (not the author, already verified) or InvalidProof."""
    if review.author_id is None or review.author_id != by.id:
        raise NotAllowed("Only the author can send proof of their treatment.")
    if review.verified_at is not None:
        raise InvalidProof("This treatment is already verified.")
    if review.status != "pending":
        # Sent with the testimonial, so the moderator who reads it sees the proof.
        raise InvalidProof("Proof is sent with the testimonial, before it is decided.")
    if not data:
        raise InvalidProof("The proof file is empty.")
    if len(data) > MAX_PROOF_BYTES:
        raise InvalidProof("The proof file is larger than 10 MB.")
    if data.startswith(PDF_MAGIC):
        body, ext, mimetype = data, "pdf", "application/pdf"
    elif media.sniff(data):
        im = media.decode(data, media.Limits.from_config())
        out = io.BytesIO()
        im.save(out, "JPEG", quality=88)
        body, ext, mimetype = out.getvalue(), "jpg", "image/jpeg"
    else:
        raise InvalidProof(
            "Send the proof as a PDF or a photo (JPEG, PNG, WebP or HEIC) of the document."
        )
    if review.proof_name:
        discard(review, decided=False)
    name = f"{secrets.token_urlsafe(24)}.{ext}"
    media.stage_file(os.path.join(proof_dir(), name), body)
    review.proof_name = name
    review.proof_mimetype = mimetype
    review.proof_submitted_at = datetime.now(UTC)
    review.proof_decided_at = None


def path_of(review: Review) -> str | None:
    if not review.proof_name:
        return None
    path = os.path.join(proof_dir(), review.proof_name)
    return path if os.path.exists(path) else None


def discard(review: Review, *, decided: bool = True) -> bool:
    """Forget the proof; its file is deleted once the transaction commits.
    Returns whether there was one."""
    if not review.proof_name:
        return False
    path = os.path.join(proof_dir(), review.proof_name)
    db.session.info.setdefault(media._DOOMED_FILES, []).append(path)
    review.proof_name = None
    review.proof_mimetype = None
    if decided:
        review.proof_decided_at = datetime.now(UTC)
    return True
