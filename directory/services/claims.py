"""Claiming a listed clinic: a user asks to manage it, with evidence; a
moderator approves (the user becomes its owner) or rejects, with reasons.

Claiming never changes a clinic's rank: it only changes who keeps its profile.
"""

from __future__ import annotations

from sqlalchemy import select

from directory.extensions import db
from directory.models import Clinic, ClinicClaim, User
from directory.models.statuses import PUBLIC_CLINIC, ClaimStatus
from directory.services import Invalid, InvalidState, NotAllowed, moderation
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
    return claim


def email_matches(claim: ClinicClaim) -> bool:
    """The moderator's first signal: the business e-mail is at the clinic's website domain."""
    return email_matches_website(claim.business_email, claim.clinic.website)


def approve(claim: ClinicClaim, *, by: User, reason_code: str, statement: str) -> None:
    """The claimant becomes the clinic's owner. Raises NotAllowed, InvalidState, Invalid."""
    moderation.decide(claim, "approve", by=by, reason_code=reason_code, statement=statement)


def reject(claim: ClinicClaim, *, by: User, reason_code: str, statement: str) -> None:
    moderation.decide(claim, "reject", by=by, reason_code=reason_code, statement=statement)


def ensure_claimant_is(claim: ClinicClaim, user: User) -> None:
    if claim.user_id != user.id:
        raise NotAllowed("This is not your claim.")
