"""Registration answers the same for a known and an unknown address (docs/security.md §45).

The outside audit: an existing address got "An account with this e-mail address
already exists" in 11-19 ms (no password hashed); a new one got a redirect after
59-103 ms. On a hair-loss site, membership itself is sensitive.
"""

from __future__ import annotations

import re
import statistics
import time

from sqlalchemy import func, select

from directory.extensions import db
from directory.models import User
from directory.services import passwords
from tests.conftest import csrf_from, post_form
from tests.web._mail import last_to, link_in, messages, path_of
from tests.web.test_auth import CountingHasher, make_user

PASSPHRASE = "a perfectly long passphrase"


def _register(client, email: str, token: str):
    return client.post(
        "/auth/register",
        data={
            "csrf_token": token,
            "email": email,
            "display_name": "Someone",
            "password": PASSPHRASE,
        },
    )


def _visible(resp, client) -> tuple:
    """What the visitor can observe: status, target, cookies set, the next page's text."""
    page = client.get(resp.location).get_data(as_text=True)
    page = re.sub(r'(name="csrf_token" value=)"[^"]+"', r'\1""', page)
    page = re.sub(r'nonce="[^"]+"', 'nonce=""', page)
    cookies = sorted(
        h.split("=", 1)[0] for k, h in resp.headers.items() if k.lower() == "set-cookie"
    )
    return resp.status_code, resp.location, cookies, page


def test_known_and_unknown_addresses_get_the_same_answer(app):
    make_user(app, email="member@example.com", display_name="Member")
    known, unknown = app.test_client(), app.test_client()
    r_known = _register(known, "Member@Example.com", csrf_from(known, "/auth/register"))
    r_unknown = _register(unknown, "newcomer@example.com", csrf_from(unknown, "/auth/register"))
    seen_known, seen_unknown = _visible(r_known, known), _visible(r_unknown, unknown)
    assert seen_known == seen_unknown
    assert seen_known[0] == 302 and seen_known[1] == "/auth/login"
    assert "check" in seen_known[3].lower() or "sent a message" in seen_known[3]
    assert "already exists" not in seen_known[3]
    # Nobody is logged in by registering.
    assert known.get("/account").status_code == 302
    assert unknown.get("/account").status_code == 302
    with app.app_context():
        emails = sorted(db.session.execute(select(User.email)).scalars())
    assert emails == ["member@example.com", "newcomer@example.com"]


def test_the_known_address_is_told_someone_tried_and_the_new_one_gets_its_link(app):
    member = make_user(app, email="member@example.com", display_name="Member")
    client = app.test_client()
    token = csrf_from(client, "/auth/register")
    _register(client, "member@example.com", token)
    msg = last_to(app, "member@example.com")
    assert msg["Subject"] == "Someone tried to register with your address"
    assert "No new account was created" in msg.get_content()
    assert link_in(msg, "/auth/reset").startswith("http://localhost/auth/reset")
    # The existing account is untouched: same password, same sessions.
    with app.app_context():
        stored = db.session.get(User, member.id)
        assert stored.password_hash == member.password_hash
        assert stored.session_token == member.session_token
    _register(client, "newcomer@example.com", token)
    link = link_in(last_to(app, "newcomer@example.com"), "/auth/verify/")
    assert post_form(client, path_of(link)).status_code == 302
    resp = post_form(
        client, "/auth/login", {"email": "newcomer@example.com", "password": PASSPHRASE}
    )
    assert resp.status_code == 302 and resp.location == "/account"
    assert len(messages(app)) == 2


def test_both_paths_hash_a_password_once_and_take_about_as_long(app, monkeypatch):
    """Measures both paths (figures printed; no timed assertion on a shared machine)
    and counts the hashing work, which is what makes them take the same time."""
    make_user(app, email="member@example.com")
    hashed: list = []
    real_hash = passwords.hash_password

    def counting_hash(password):
        hashed.append(1)
        return real_hash(password)

    monkeypatch.setattr("directory.services.accounts.hash_password", counting_hash)
    monkeypatch.setattr(passwords, "HASHER", CountingHasher(passwords.HASHER, []))
    client = app.test_client()
    token = csrf_from(client, "/auth/register")
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(6):
        for kind, email in (("known", "member@example.com"), ("unknown", f"n{i}@example.com")):
            before = len(hashed)
            start = time.perf_counter()
            resp = _register(client, email, token)
            timings[kind].append((time.perf_counter() - start) * 1000)
            assert resp.status_code == 302
            assert len(hashed) - before == 1, kind
    with app.app_context():
        assert db.session.execute(select(func.count(User.id))).scalar() == 7
    med = {k: statistics.median(v) for k, v in timings.items()}
    print(
        "registration timing over 6 tries each: "
        f"known address median {med['known']:.1f} ms (min {min(timings['known']):.1f}, "
        f"max {max(timings['known']):.1f}); unknown address median {med['unknown']:.1f} ms "
        f"(min {min(timings['unknown']):.1f}, max {max(timings['unknown']):.1f}); "
        "password hashes per request: 1 and 1"
    )


def test_a_malformed_registration_is_refused_alike_for_both(app):
    make_user(app, email="member@example.com")
    bodies = []
    for email in ("member@example.com", "newcomer@example.com"):
        client = app.test_client()
        resp = client.post(
            "/auth/register",
            data={
                "csrf_token": csrf_from(client, "/auth/register"),
                "email": email,
                "display_name": "Someone",
                "password": "short",
            },
        )
        assert resp.status_code == 400
        html = resp.get_data(as_text=True)
        html = re.sub(r'value="[^"]*"', 'value=""', html)
        html = re.sub(r'nonce="[^"]+"', 'nonce=""', html)
        bodies.append(html)
    assert bodies[0] == bodies[1]
