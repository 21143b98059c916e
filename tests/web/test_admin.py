"""Admin user list and role changes; the `users create` command (docs/security.md §7, §8, §13)."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from directory.extensions import db
from directory.models import ModerationDecision, User
from directory.services import passwords
from tests.conftest import login, post_form
from tests.factories import UserFactory
from tests.web.test_auth import make_user, staff


def admin_client(app, fresh=True):
    """An admin past the second factor."""
    admin, _ = staff(app, "admin")
    client = app.test_client()
    login(client, admin, mfa=True, fresh=fresh)
    return client, admin


def change(client, user_id, role, statement="Promoted after the interview."):
    return post_form(
        client,
        f"/admin/users/{user_id}/role",
        {"role": role, "statement": statement},
        form_url="/admin/users",
    )


def test_admin_lists_users_and_changes_a_role_with_an_audit_row(app):
    client, admin = admin_client(app)
    target = make_user(app, display_name="Target Person")
    html = client.get("/admin/users").get_data(as_text=True)
    assert target.email in html and "Target Person" in html
    resp = change(client, target.id, "moderator")
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.get(User, target.id)
        assert user.role == "moderator"
        assert user.session_token != target.session_token  # their sessions end
        row = db.session.execute(select(ModerationDecision)).scalar_one()
        assert (row.item_type, row.item_id, row.moderator_id) == ("user", target.id, admin.id)
        assert (row.previous_status, row.new_status) == ("consumer", "moderator")


def test_role_change_needs_a_fresh_login(app):
    client, _ = admin_client(app, fresh=False)
    target = make_user(app)
    resp = change(client, target.id, "admin")
    assert resp.status_code == 302 and "/auth/login" in resp.location
    with app.app_context():
        assert db.session.get(User, target.id).role == "consumer"


@pytest.mark.parametrize(
    "role,statement",
    [("overlord", "A long enough reason."), ("moderator", "short"), ("", "A long reason.")],
)
def test_bad_role_changes_are_refused_with_400(app, role, statement):
    client, _ = admin_client(app)
    target = make_user(app)
    assert change(client, target.id, role, statement).status_code == 400
    with app.app_context():
        assert db.session.get(User, target.id).role == "consumer"
        assert db.session.execute(select(ModerationDecision)).first() is None


def test_admin_cannot_change_their_own_role_and_unknown_users_are_404(app):
    client, admin = admin_client(app)
    assert change(client, admin.id, "consumer").status_code == 403
    assert change(client, 99999, "consumer").status_code == 404
    with app.app_context():
        assert db.session.get(User, admin.id).role == "admin"


@pytest.mark.parametrize("role", ["consumer", "clinic_owner", "moderator"])
def test_non_admins_cannot_see_users_or_change_roles(app, role):
    if role == "moderator":
        user, _ = staff(app, "moderator")
    else:
        user = make_user(app, role=role)
    target = make_user(app)
    client = app.test_client()
    login(client, user, mfa=True)
    assert client.get("/admin/users").status_code == 403
    assert change(client, target.id, "admin", "Let me in please now.").status_code == 403
    with app.app_context():
        assert db.session.get(User, target.id).role == "consumer"


def test_admin_page_without_second_factor_goes_to_totp(app):
    admin, _ = staff(app, "admin")
    client = app.test_client()
    login(client, admin, mfa=False)
    resp = client.get("/admin/users")
    assert resp.status_code == 302 and resp.location.startswith("/auth/totp?next=")


def test_users_create_command_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["users", "create", " Staff@Example.com ", "--role", "moderator"],
        input="a long staff passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long staff passphrase" not in result.output
    with app.app_context():
        user = db.session.execute(
            select(User).where(User.email == "staff@example.com")
        ).scalar_one()
        assert user.role == "moderator" and user.email_verified
        assert user.totp_confirmed_at is None
        assert passwords.verify_password(user.password_hash, "a long staff passphrase")
        assert extract_parameters(user.password_hash).memory_cost >= 19456


@pytest.mark.parametrize(
    "args,stdin,message",
    [
        (["users", "create", "a@example.com", "--role", "king"], "a long passphrase\n", "king"),
        (["users", "create", "a@example.com"], "short\n", "at least 12"),
        (["users", "create", "a@example.com"], "password1234\n", "common"),
    ],
)
def test_users_create_refusals(app, runner, args, stdin, message):
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.execute(select(User)).first() is None


def test_users_create_refuses_a_taken_address(app, runner):
    with app.app_context():
        UserFactory(email="taken@example.com")
    result = runner.invoke(
        args=["users", "create", "TAKEN@example.com"], input="a long passphrase\n"
    )
    assert result.exit_code != 0 and "already exists" in result.output
