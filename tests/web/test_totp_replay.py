"""A second-factor code is accepted once: an observed code cannot be replayed."""

from datetime import UTC, datetime

import pyotp

from tests.conftest import csrf_from, login
from tests.factories import UserFactory


def test_a_used_totp_code_is_refused_the_second_time(app):
    secret = pyotp.random_base32()
    with app.app_context():
        user_id = UserFactory(
            role="moderator", totp_secret=secret, totp_confirmed_at=datetime.now(UTC)
        ).id
    code = pyotp.TOTP(secret).now()

    first = app.test_client()
    login(first, user_id)
    resp = first.post(
        "/auth/totp", data={"csrf_token": csrf_from(first, "/auth/totp"), "code": code}
    )
    assert resp.status_code == 302
    assert first.get("/moderation/").status_code == 200

    attacker = app.test_client()
    login(attacker, user_id)
    resp = attacker.post(
        "/auth/totp", data={"csrf_token": csrf_from(attacker, "/auth/totp"), "code": code}
    )
    assert resp.status_code == 400
    assert attacker.get("/moderation/").status_code == 302  # still sent to the TOTP step
