"""A second-factor code is accepted once: an observed code cannot be replayed."""

from datetime import UTC, datetime

import pyotp

from tests.conftest import csrf_from, post_form
from tests.factories import PASSWORD, UserFactory


def log_in(client, email):
    resp = post_form(client, "/auth/login", {"email": email, "password": PASSWORD})
    assert resp.status_code == 302


def test_a_used_totp_code_is_refused_the_second_time(app):
    secret = pyotp.random_base32()
    with app.app_context():
        email = UserFactory(
            role="moderator", totp_secret=secret, totp_confirmed_at=datetime.now(UTC)
        ).email
    code = pyotp.TOTP(secret).now()

    first = app.test_client()
    log_in(first, email)
    resp = first.post(
        "/auth/totp", data={"csrf_token": csrf_from(first, "/auth/totp"), "code": code}
    )
    assert resp.status_code == 302
    assert first.get("/moderation/").status_code == 200

    attacker = app.test_client()
    log_in(attacker, email)
    resp = attacker.post(
        "/auth/totp", data={"csrf_token": csrf_from(attacker, "/auth/totp"), "code": code}
    )
    assert resp.status_code == 400
    assert attacker.get("/moderation/").status_code == 302  # still sent to the TOTP step
