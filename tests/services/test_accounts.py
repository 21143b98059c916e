"""The accounts service called directly: its refusals and its contracts."""

from __future__ import annotations

import pyotp
import pytest

from directory.extensions import db
from directory.models import ModerationDecision
from directory.services import Invalid, InvalidState, NotAllowed, accounts
from tests.factories import PASSWORD, UserFactory


def test_password_rule_is_length_and_common_list_only():
    assert accounts.password_problem("x" * 11)
    assert accounts.password_problem("y" * 12) is None or "common" in accounts.password_problem(
        "y" * 12
    )
    assert accounts.password_problem("no digits no capitals") is None
    assert accounts.password_problem("ünïcödé pässwörd") is None
    assert accounts.password_problem("x" * 1025)
    assert "e-mail" in accounts.password_problem("me.myself@example.com", "Me.Myself@example.com")


def test_authenticate_returns_none_for_unknown_wrong_and_oversized_input(app):
    with app.app_context():
        user = UserFactory()
        assert accounts.authenticate(user.email, PASSWORD) is user
        assert user.last_login_at is not None
        assert accounts.authenticate(user.email, "wrong") is None
        assert accounts.authenticate("nobody@example.com", PASSWORD) is None
        assert accounts.authenticate("x" * 300 + "@example.com", PASSWORD) is None
        assert accounts.authenticate(user.email, "") is None


def test_only_admins_change_roles_and_never_their_own(app):
    with app.app_context():
        admin, mod, target = (
            UserFactory(role="admin"),
            UserFactory(role="moderator"),
            UserFactory(),
        )
        with pytest.raises(NotAllowed):
            accounts.set_role(target, "admin", by=mod, statement="I would like that.")
        with pytest.raises(NotAllowed):
            accounts.set_role(admin, "consumer", by=admin, statement="Stepping down now.")
        with pytest.raises(Invalid):
            accounts.set_role(target, "emperor", by=admin, statement="Long enough reason.")
        with pytest.raises(Invalid):
            accounts.set_role(target, "consumer", by=admin, statement="Long enough reason.")
        with pytest.raises(Invalid):
            accounts.set_role(target, "moderator", by=admin, statement="short")
        db.session.rollback()
        assert db.session.query(ModerationDecision).count() == 0


def test_totp_confirmation_rules(app):
    with app.app_context():
        user = UserFactory(role="moderator")
        # The setup page keeps the pending secret in the session and sets it for the check.
        secret = user.totp_secret = pyotp.random_base32()
        with pytest.raises(Invalid):
            accounts.confirm_totp(user, "12345a")
        assert not accounts.check_totp(user, "")
        assert not accounts.check_totp(user, "1234567")
        accounts.confirm_totp(user, pyotp.TOTP(secret).now())
        assert user.totp_confirmed_at is not None
        with pytest.raises(InvalidState):
            accounts.confirm_totp(user, pyotp.TOTP(secret).now())


def test_register_refuses_taken_and_malformed_input(app):
    with app.app_context():
        UserFactory(email="taken@example.com")
        # A taken address: nothing created, no error (the owner is told by mail instead).
        assert accounts.register(" Taken@Example.com", "T", "a long passphrase here") is None
        with pytest.raises(Invalid):
            accounts.register("no-at-sign", "T", "a long passphrase here")
        with pytest.raises(Invalid):
            accounts.register("ok@example.com", "   ", "a long passphrase here")
        with pytest.raises(Invalid):
            accounts.register("ok@example.com", "T", "qwertyuiop123")


def test_tokens_are_bound_to_their_purpose(app):
    with app.app_context():
        user = UserFactory(email_verified_at=None)
        verify, reset = accounts.make_verify_token(user), accounts.make_reset_token(user)
        with pytest.raises(Invalid):
            accounts.user_for_reset(verify)
        with pytest.raises(Invalid):
            accounts.user_for_verify(reset)
        assert accounts.user_for_reset(reset) is user
        assert accounts.verify_email(verify) is user
