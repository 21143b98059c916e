"""Claiming a listed clinic: a user asks to manage it, with evidence; a
moderator approves (the user becomes its owner) or rejects, with reasons.

Claiming never changes a clinic's rank: it only changes who keeps its profile.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import select

from directory.extensions import db
from directory.models import Clinic, ClinicClaim, User
from directory.models.statuses import PUBLIC_CLINIC, ClaimStatus
from directory.services import Invalid, InvalidState, NotAllowed, mail, moderation
from directory.services.fields import email_matches_website, text, website_ok


def claimable(clinic: Clinic) -> bool:
    return clinic.status in PUBLIC_CLINIC and clinic.owner_id is None


def open_claim(clinic: Clinic, user: User) -> ClinicClaim | None:
    return db.session.execute(
        select(ClinicClaim).where(
            ClinicClaim.clinic_id == clinic.id,
            ClinicClaim.user_id == user.id,
            ClinicClaim.status == ClaimStatus.PENDING,
        )
    ).scalar_one_or_none()


def submit(
    clinic: Clinic,
    *,
    by: User,
    role_at_clinic: str,
    business_email: str | None,
    phone: str | None,
    evidence_links: str | None,
    evidence: str | None,
) -> ClinicClaim:
    """Stage a pending claim. Raises InvalidState when the clinic is not
    claimable or the user already has a claim open on it; Invalid on bad input."""
    if clinic.owner_id is not None and clinic.owner_id == by.id:
        raise InvalidState("You already manage this clinic.")
    if not claimable(clinic):
        raise InvalidState("This clinic is already managed by its owner or cannot be claimed.")
    if open_claim(clinic, by) is not None:
        raise InvalidState("You already have a claim on this clinic waiting for a moderator.")
    role = text(role_at_clinic, 120, "Your role at the clinic", required=True)
    email = text(business_email, 254, "Business e-mail")
    if email and ("@" not in email or " " in email):
        raise Invalid("Enter a valid business e-mail address.")
    links = text(evidence_links, 2000, "Links")
    if links:
        for line in links.split():
            if not website_ok(line):
                raise Invalid(
                    "Each link must be a full address starting with http:// or "
                    "https://, one per line."
                )
    claim = ClinicClaim(
        clinic_id=clinic.id,
        user_id=by.id,
        role_at_clinic=role,
        business_email=email.lower() if email else None,
        phone=text(phone, 40, "Phone"),
        evidence_links=links,
        evidence=text(evidence, 5000, "Evidence") or "",
        status=ClaimStatus.PENDING.value,
    )
    if not (claim.business_email or claim.phone or claim.evidence_links or claim.evidence):
        raise Invalid(
            "Give at least one piece of evidence: a business e-mail, a phone number, "
            "links or a note."
        )
    db.session.add(claim)
    db.session.flush()
    if claim.business_email:
        send_code(claim)
    return claim


# --- proving control of the business e-mail ----------------------------------------------

CODE_HOURS = 48
CODE_ATTEMPTS = 5
RESEND_MINUTES = 5


def _code_hash(claim: ClinicClaim, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"claim-{claim.id}-{code}".encode(), hashlib.sha256).hexdigest()


def send_code(claim: ClinicClaim) -> None:
    """Mail a one-time code to the business address; only its keyed hash is kept."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    claim.email_code_hash = _code_hash(claim, code)
    claim.email_code_sent_at = datetime.now(UTC)
    claim.email_code_attempts = 0
    clinic = claim.clinic or db.session.get(Clinic, claim.clinic_id)
    body = render_template(
        "email/claim_code.txt",
        claim=claim,
        clinic=clinic,
        code=code,
        hours=CODE_HOURS,
        confirm_url=mail.external_url(f"/manage/claims/{claim.id}/confirm"),
    )
    mail.send(claim.business_email, f"Your code to claim {clinic.name}", body)


def _own_pending(claim: ClinicClaim, by: User) -> None:
    if claim.user_id != by.id:
        raise NotAllowed("This is not your claim.")
    if claim.status != ClaimStatus.PENDING or not claim.business_email:
        raise InvalidState("There is no business e-mail to confirm on this claim.")


def resend_code(claim: ClinicClaim, *, by: User) -> None:
    """A new code (the old one stops working), at most one every RESEND_MINUTES."""
    _own_pending(claim, by)
    if claim.email_confirmed_at is not None:
        raise InvalidState("You have already confirmed this address.")
    sent = claim.email_code_sent_at
    if sent is not None and datetime.now(UTC) - sent < timedelta(minutes=RESEND_MINUTES):
        raise InvalidState(
            f"We sent a code less than {RESEND_MINUTES} minutes ago; check that mailbox."
        )
    send_code(claim)


def confirm_code(claim: ClinicClaim, *, by: User, code: str) -> bool:
    """The claimant types back the code mailed to the business address: True when it
    is right. A wrong code counts as a try (the caller commits either way). Raises
    NotAllowed (not their claim) or InvalidState (expired, too many tries)."""
    _own_pending(claim, by)
    if claim.email_confirmed_at is not None:
        raise InvalidState("You have already confirmed this address.")
    sent = claim.email_code_sent_at
    if sent is None or datetime.now(UTC) - sent > timedelta(hours=CODE_HOURS):
        raise InvalidState("The code has expired: ask for a new one.")
    if claim.email_code_attempts >= CODE_ATTEMPTS:
        raise InvalidState("Too many wrong codes: ask for a new one.")
    code = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    claim.email_code_attempts += 1
    if not hmac.compare_digest(_code_hash(claim, code), claim.email_code_hash or ""):
        return False
    claim.email_confirmed_at = datetime.now(UTC)
    return True


def email_matches(claim: ClinicClaim) -> bool:
    """The moderator's first signal: the business e-mail is at the clinic's website domain."""
    return email_matches_website(claim.business_email, claim.clinic.website)


def approve(claim: ClinicClaim, *, by: User, reason_code: str, statement: str) -> None:
    """The claimant becomes the clinic's owner. Raises NotAllowed, InvalidState, Invalid."""
    moderation.decide(claim, "approve", by=by, reason_code=reason_code, statement=statement)


def reject(claim: ClinicClaim, *, by: User, reason_code: str, statement: str) -> None:
    moderation.decide(claim, "reject", by=by, reason_code=reason_code, statement=statement)
