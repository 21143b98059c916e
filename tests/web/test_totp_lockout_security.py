"""Second-factor guessing locks out with back-off, tells the owner and is audited
(docs/security.md §47). The outside audit: 20 guesses a minute for someone who already
has a staff password, no lockout and no alert."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select

from directory.extensions import db
from directory.models import ModerationDecision, User
from directory.services import accounts
from tests.conftest import csrf_from, login, totp_now
from tests.web._mail import messages
from tests.web.test_auth import staff


def wrong_code(secret: str) -> str:
    """A code that is none of the three steps the app accepts now."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(datetime.now(UTC) + timedelta(seconds=s)) for s in (-60, -30, 0, 30, 60)}
    n = 0
    while f"{n:06d}" in valid:
        n += 1
    return f"{n:06d}"


def stored(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def lock_mails(app, address: str):
    return [
        m
        for m in messages(app)
        if m["To"] == address and m["Subject"] == "Your second factor is locked after wrong codes"
    ]


def test_five_wrong_codes_lock_the_second_factor_tell_the_owner_and_are_audited(app):
    admin, secret = staff(app, "admin")
    client = app.test_client()
    login(client, admin)
    token = csrf_from(client, "/auth/totp")
    statuses = [
        client.post("/auth/totp", data={"csrf_token": token, "code": wrong_code(secret)})
        for _ in range(accounts.TOTP_MAX_FAILURES)
    ]
    assert [r.status_code for r in statuses] == [400] * 4 + [429]
    assert "locked until" in statuses[-1].get_data(as_text=True)
    assert len(lock_mails(app, admin.email)) == 1
    body = lock_mails(app, admin.email)[0].get_content()
    assert "someone knows your password" in body
    with app.app_context():
        rows = db.session.execute(
            select(ModerationDecision).where(ModerationDecision.action == "totp_lockout")
        ).scalars()
        rows = list(rows)
    assert len(rows) == 1
    row = rows[0]
    assert (row.item_type, row.item_id, row.subject_user_id) == ("user", admin.id, admin.id)
    assert row.automated and row.new_status == "totp_locked"
    assert "5 wrong second-factor codes" in row.statement

    # While locked, even the right code is refused, and nothing is checked or counted.
    resp = client.post("/auth/totp", data={"csrf_token": token, "code": totp_now(secret)})
    assert resp.status_code == 429
    assert client.get("/admin/users").status_code == 302
    assert stored(app, admin.id).totp_failures == 5
    page = client.get("/auth/totp").get_data(as_text=True)
    assert "locked until" in page
    # Only one mail per lockout; the owner also finds the event on the account page.
    assert len(lock_mails(app, admin.email)) == 1
    assert "totp lockout" in client.get("/account").get_data(as_text=True)


def test_the_lock_ends_then_a_right_code_resets_the_count_and_back_off_doubles(app):
    admin, secret = staff(app, "admin")
    client = app.test_client()
    login(client, admin)
    token = csrf_from(client, "/auth/totp")

    def expire_lock():
        with app.app_context():
            db.session.get(User, admin.id).totp_locked_until = datetime.now(UTC) - timedelta(
                seconds=1
            )
            db.session.commit()

    def guess_wrong(n):
        return [
            client.post(
                "/auth/totp", data={"csrf_token": token, "code": wrong_code(secret)}
            ).status_code
            for _ in range(n)
        ]

    assert guess_wrong(5)[-1] == 429
    first = stored(app, admin.id).totp_locked_until - datetime.now(UTC)
    expire_lock()
    assert guess_wrong(5)[-1] == 429  # the second lockout: twice as long
    second = stored(app, admin.id).totp_locked_until - datetime.now(UTC)
    print(f"lockouts: first {first.total_seconds():.0f} s, second {second.total_seconds():.0f} s")
    assert timedelta(seconds=50) < first <= timedelta(minutes=1)
    assert timedelta(seconds=110) < second <= timedelta(minutes=2)
    assert len(lock_mails(app, admin.email)) == 2
    expire_lock()
    resp = client.post("/auth/totp", data={"csrf_token": token, "code": totp_now(secret)})
    assert resp.status_code == 302
    assert client.get("/admin/users").status_code == 200
    after = stored(app, admin.id)
    assert after.totp_failures == 0 and after.totp_locked_until is None


def test_back_off_doubles_up_to_a_day():
    durations = [accounts.lock_duration(n * accounts.TOTP_MAX_FAILURES) for n in range(1, 14)]
    assert durations[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(durations) == accounts.TOTP_LOCK_MAX == timedelta(hours=24)
    assert durations == sorted(durations)


def test_parallel_guesses_lose_no_count(app):
    """Guesses sent at once from several clients are all counted (one atomic update)."""
    admin, secret = staff(app, "admin")
    clients = []
    for _ in range(4):
        c = app.test_client()
        login(c, admin)
        clients.append((c, csrf_from(c, "/auth/totp")))
    barrier = threading.Barrier(len(clients))
    statuses = []

    def go(c, token):
        barrier.wait()
        statuses.append(
            c.post("/auth/totp", data={"csrf_token": token, "code": wrong_code(secret)}).status_code
        )

    threads = [threading.Thread(target=go, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [400] * 4
    assert stored(app, admin.id).totp_failures == 4


def test_another_staff_member_is_not_locked_by_someone_elses_guesses(app):
    victim, secret = staff(app, "admin")
    other, other_secret = staff(app, "moderator")
    attacker = app.test_client()
    login(attacker, victim)
    token = csrf_from(attacker, "/auth/totp")
    for _ in range(5):
        attacker.post("/auth/totp", data={"csrf_token": token, "code": wrong_code(secret)})
    mod_client = app.test_client()
    login(mod_client, other)
    resp = mod_client.post(
        "/auth/totp",
        data={"csrf_token": csrf_from(mod_client, "/auth/totp"), "code": totp_now(other_secret)},
    )
    assert resp.status_code == 302
