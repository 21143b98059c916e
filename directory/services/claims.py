"""Claiming a listed clinic: a user asks to manage it, with evidence; a
moderator approves (the user becomes its owner) or rejects, with reasons.

Claiming never changes a clinic's rank: it only changes who keeps its profile.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from directory import search
from directory.extensions import db
from directory.models import Clinic, ClinicClaim, User
from directory.services import Invalid, InvalidState, NotAllowed, audit, mail
from directory.services.profiles import (
    _text,
    check_reason,
    email_matches_website,
    ensure_may_decide,
)
from directory.vocab import PUBLIC_CLINIC_STATUSES, REASON_CODES


def claimable(clinic: Clinic) -> bool:
    return clinic.status in PUBLIC_CLINIC_STATUSES and clinic.owner_id is None


def open_claim(clinic: Clinic, user: User) -> ClinicClaim | None:
    return db.session.execute(
        select(ClinicClaim).where(
            ClinicClaim.clinic_id == clinic.id,
            ClinicClaim.user_id == user.id,
            ClinicClaim.status == "pending",
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
    role = _text(role_at_clinic, 120, "Your role at the clinic", required=True)
    email = _text(business_email, 254, "Business e-mail")
    if email and ("@" not in email or " " in email):
        raise Invalid("Enter a valid business e-mail address.")
    links = _text(evidence_links, 2000, "Links")
    if links:
        from directory.services.profiles import website_ok

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
        phone=_text(phone, 40, "Phone"),
        evidence_links=links,
        evidence=_text(evidence, 5000, "Evidence") or "",
        status="pending",
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


def pending() -> list[ClinicClaim]:
    stmt = (
        select(ClinicClaim)
        .where(ClinicClaim.status == "pending")
        .order_by(ClinicClaim.created_at, ClinicClaim.id)
    )
    return list(db.session.execute(stmt).scalars())


def _decide(
    claim: ClinicClaim, *, by: User, approve: bool, reason_code: str, statement: str
) -> None:
    clinic = claim.clinic
    ensure_may_decide(by, clinic, claim.user_id)
    if claim.status != "pending":
        raise InvalidState("This claim has already been decided.")
    if approve and clinic.owner_id is not None:
        raise InvalidState("This clinic already has an owner.")
    check_reason(reason_code, statement)
    claimant = claim.user
    previous = claim.status
    claim.status = "approved" if approve else "rejected"
    claim.decided_at = datetime.now(UTC)
    if approve:
        if claimant is None:
            raise InvalidState("The claimant's account no longer exists.")
        clinic.owner_id = claimant.id
        if clinic.status == "listed":
            clinic.status = "claimed"
        if claimant.role == "consumer":
            claimant.role = "clinic_owner"
        search.mark_dirty(clinic.id)
    audit.record(
        by=by,
        item_type="claim",
        item_id=claim.id,
        action="approve" if approve else "reject",
        reason_code=reason_code,
        statement=statement,
        previous_status=previous,
        new_status=claim.status,
        clinic_id=clinic.id,
        subject_user_id=claimant.id if claimant else None,
        item_submitted_at=claim.created_at,
    )
    if claimant is not None:
        outcome = "approved" if approve else "not approved"
        body = (
            f"Hello {claimant.display_name},\n\n"
            f"Your claim to manage {clinic.name} ({clinic.city}) was {outcome}.\n\n"
            f"Reason: {REASON_CODES[reason_code]}\nStatement of reasons: {statement.strip()}\n\n"
            "This decision was taken by a moderator, not automatically.\n"
        )
        if approve:
            body += (
                "You can now edit the profile, publish results and reply to testimonials "
                "from " + mail.external_url("/manage") + ".\n"
                "Claiming a listing never changes its place in the ranking.\n"
            )
        else:
            body += "If you disagree, you may claim again with more evidence.\n"
        mail.send(claimant.email, f"Your claim for {clinic.name} was {outcome}", body)


def approve(claim: ClinicClaim, *, by: User, reason_code: str, statement: str) -> None:
    """The claimant becomes the clinic's owner. Raises NotAllowed, InvalidState, Invalid."""
    _decide(claim, by=by, approve=True, reason_code=reason_code, statement=statement)


def reject(claim: ClinicClaim, *, by: User, reason_code: str, statement: str) -> None:
    _decide(claim, by=by, approve=False, reason_code=reason_code, statement=statement)


def ensure_claimant_is(claim: ClinicClaim, user: User) -> None:
    if claim.user_id != user.id:
        raise NotAllowed("This is not your claim.")
