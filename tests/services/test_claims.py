"""Claiming a listed clinic: submit, approve, reject, and who may decide."""

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic, ClinicClaim, ModerationDecision, SearchOutbox, User
from directory.services import Invalid, InvalidState, NotAllowed, claims
from directory.services.fields import email_matches_website
from tests.factories import ClinicFactory, UserFactory
from tests.web._mail import texts

REASON = dict(reason_code="meets_guidelines", statement="Business e-mail at the clinic domain.")


def mails(app):
    """Mail about decisions (the code mailed to the business address is not one)."""
    return [m for m in texts(app) if not m.startswith("Your code to claim")]


def submit(clinic, user, **over):
    data = dict(
        role_at_clinic="Owner",
        business_email="me@free.example",
        phone="+44 20 1234",
        evidence_links="https://free.example/team",
        evidence="I founded it.",
    )
    data.update(over)
    return claims.submit(clinic, by=user, **data)


@pytest.fixture
def setup(app):
    with app.app_context():
        clinic = ClinicFactory(slug="free", website="https://www.free.example")
        claimant = UserFactory()
        mod = UserFactory(role="moderator")
        claim = submit(clinic, claimant)
        db.session.commit()
        return dict(clinic=clinic.id, claimant=claimant.id, mod=mod.id, claim=claim.id)


def test_submit_stages_a_pending_claim_with_evidence(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        assert claim.status == "pending" and claim.role_at_clinic == "Owner"
        assert claim.business_email == "me@free.example"
        assert claims.email_matches(claim)
        assert db.session.get(Clinic, setup["clinic"]).owner_id is None


def test_second_open_claim_by_the_same_user_is_refused(app, setup):
    with app.app_context():
        clinic = db.session.get(Clinic, setup["clinic"])
        with pytest.raises(InvalidState):
            submit(clinic, db.session.get(User, setup["claimant"]))


def test_claim_needs_a_role_and_some_evidence(app, setup):
    with app.app_context():
        clinic = db.session.get(Clinic, setup["clinic"])
        other = UserFactory()
        with pytest.raises(Invalid):
            submit(clinic, other, role_at_clinic="  ")
        with pytest.raises(Invalid):
            submit(clinic, other, business_email="", phone="", evidence_links="", evidence="")
        with pytest.raises(Invalid):
            submit(clinic, other, evidence_links="javascript:alert(1)")


@pytest.mark.parametrize("status", ["pending", "suspended", "rejected"])
def test_non_public_clinics_cannot_be_claimed(app, status):
    with app.app_context():
        clinic = ClinicFactory(status=status)
        with pytest.raises(InvalidState):
            submit(clinic, UserFactory())


def test_owned_clinic_cannot_be_claimed(app):
    with app.app_context():
        owner = UserFactory(role="clinic_owner")
        clinic = ClinicFactory(owner_id=owner.id, status="claimed")
        with pytest.raises(InvalidState):
            submit(clinic, UserFactory())
        with pytest.raises(InvalidState):
            submit(clinic, owner)


def test_approval_makes_the_claimant_owner_logs_and_tells_them(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        score_before = claim.clinic.quality_score
        claims.approve(claim, by=db.session.get(User, setup["mod"]), **REASON)
        db.session.commit()
        clinic = db.session.get(Clinic, setup["clinic"])
        assert clinic.owner_id == setup["claimant"]
        assert clinic.status == "claimed"
        assert clinic.quality_score == score_before
        assert db.session.get(User, setup["claimant"]).role == "clinic_owner"
        assert claim.status == "approved" and claim.decided_at is not None
        row = db.session.execute(select(ModerationDecision)).scalar_one()
        assert (row.item_type, row.item_id, row.action) == ("claim", claim.id, "approve")
        assert row.clinic_id == clinic.id and row.subject_user_id == setup["claimant"]
        assert row.moderator_id == setup["mod"] and row.reason_code == "meets_guidelines"
        assert (
            db.session.execute(
                select(func.count())
                .select_from(SearchOutbox)
                .where(SearchOutbox.clinic_id == clinic.id)
            ).scalar_one()
            >= 1
        )
    sent = mails(app)
    assert len(sent) == 1
    body = sent[0]
    assert "approved" in body and "Business e-mail at the clinic domain." in body


def test_approval_keeps_a_moderators_role(app):
    with app.app_context():
        clinic = ClinicFactory()
        staff = UserFactory(role="moderator")
        claim = submit(clinic, staff)
        claims.approve(claim, by=UserFactory(role="admin"), **REASON)
        assert staff.role == "moderator" and clinic.owner_id == staff.id


def test_verified_clinic_keeps_its_status_when_claimed(app):
    with app.app_context():
        clinic = ClinicFactory(status="verified")
        claim = submit(clinic, UserFactory())
        claims.approve(claim, by=UserFactory(role="moderator"), **REASON)
        assert clinic.status == "verified"


def test_rejection_changes_nothing_on_the_clinic_and_tells_the_claimant(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        claims.reject(
            claim,
            by=db.session.get(User, setup["mod"]),
            reason_code="insufficient_evidence",
            statement="No link to the clinic shown.",
        )
        db.session.commit()
        clinic = db.session.get(Clinic, setup["clinic"])
        assert clinic.owner_id is None and clinic.status == "listed"
        assert db.session.get(User, setup["claimant"]).role == "consumer"
        assert claim.status == "rejected"
        row = db.session.execute(select(ModerationDecision)).scalar_one()
        assert row.action == "reject" and row.new_status == "rejected"
    assert len(mails(app)) == 1


def test_a_decided_claim_cannot_be_decided_again(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        mod = db.session.get(User, setup["mod"])
        claims.reject(claim, by=mod, **dict(REASON, reason_code="insufficient_evidence"))
        with pytest.raises(InvalidState):
            claims.approve(claim, by=mod, **REASON)


def test_second_claim_cannot_be_approved_once_the_clinic_has_an_owner(app, setup):
    with app.app_context():
        clinic = db.session.get(Clinic, setup["clinic"])
        second = submit(clinic, UserFactory())
        mod = db.session.get(User, setup["mod"])
        claims.approve(db.session.get(ClinicClaim, setup["claim"]), by=mod, **REASON)
        with pytest.raises(InvalidState):
            claims.approve(second, by=mod, **REASON)


def test_only_moderators_decide_and_never_on_their_own_claim(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        for role in ("consumer", "clinic_owner"):
            with pytest.raises(NotAllowed):
                claims.approve(claim, by=UserFactory(role=role), **REASON)
        mod_claim = submit(claim.clinic, db.session.get(User, setup["mod"]))
        with pytest.raises(NotAllowed):
            claims.approve(mod_claim, by=db.session.get(User, setup["mod"]), **REASON)
        assert claim.status == "pending" and mod_claim.status == "pending"


def test_moderator_cannot_decide_on_a_clinic_they_own(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        mod = db.session.get(User, setup["mod"])
        claim.clinic.owner_id = mod.id
        with pytest.raises(NotAllowed):
            claims.reject(claim, by=mod, **REASON)


def test_a_decision_needs_a_known_reason_and_a_statement(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        mod = db.session.get(User, setup["mod"])
        with pytest.raises(Invalid):
            claims.approve(claim, by=mod, reason_code="made_up", statement="Long enough text.")
        with pytest.raises(Invalid):
            claims.approve(claim, by=mod, reason_code="meets_guidelines", statement="short")
        assert claim.status == "pending" and claim.clinic.owner_id is None


@pytest.mark.parametrize(
    "email,website,expected",
    [
        ("a@clinic.example", "https://clinic.example", True),
        ("a@clinic.example", "https://www.clinic.example/about", True),
        ("a@mail.clinic.example", "https://clinic.example", True),
        ("a@CLINIC.example", "http://clinic.example", True),
        ("a@clinic.example.evil.com", "https://clinic.example", False),
        ("a@notclinic.example", "https://clinic.example", False),
        ("a@gmail.com", "https://clinic.example", False),
        ("a@clinic.example", None, False),
        (None, "https://clinic.example", False),
    ],
)
def test_business_email_matches_the_website_domain(email, website, expected):
    assert email_matches_website(email, website) is expected


# --- the business e-mail code ------------------------------------------------------------


def _code_from_mail(app, address):
    import re

    from tests.web._mail import last_to

    return re.search(r"Your code: (\d{6})", last_to(app, address).get_content()).group(1)


def test_a_business_email_gets_a_code_and_only_the_right_code_confirms_it(app, setup):
    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        claimant = db.session.get(User, setup["claimant"])
        assert claim.email_code_hash and claim.email_confirmed_at is None
        code = _code_from_mail(app, claim.business_email)
        assert code not in claim.email_code_hash  # only a keyed hash is kept
        stranger = UserFactory()
        with pytest.raises(NotAllowed):
            claims.confirm_code(claim, by=stranger, code=code)
        wrong = "000000" if code != "000000" else "111111"
        assert claims.confirm_code(claim, by=claimant, code=wrong) is False
        assert claim.email_confirmed_at is None and claim.email_code_attempts == 1
        assert claims.confirm_code(claim, by=claimant, code=code) is True
        assert claim.email_confirmed_at is not None
        with pytest.raises(InvalidState):
            claims.confirm_code(claim, by=claimant, code=code)


def test_too_many_wrong_codes_lock_the_code_until_a_new_one_is_sent(app, setup):
    from datetime import timedelta

    with app.app_context():
        claim = db.session.get(ClinicClaim, setup["claim"])
        claimant = db.session.get(User, setup["claimant"])
        code = _code_from_mail(app, claim.business_email)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(claims.CODE_ATTEMPTS):
            claims.confirm_code(claim, by=claimant, code=wrong)
        with pytest.raises(InvalidState, match="Too many"):
            claims.confirm_code(claim, by=claimant, code=code)
        with pytest.raises(InvalidState, match="minutes ago"):
            claims.resend_code(claim, by=claimant)
        claim.email_code_sent_at -= timedelta(minutes=claims.RESEND_MINUTES + 1)
        claims.resend_code(claim, by=claimant)
        db.session.commit()  # mail goes out after the commit
        fresh = _code_from_mail(app, claim.business_email)
        assert claims.confirm_code(claim, by=claimant, code=fresh) is True
