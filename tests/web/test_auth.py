"""Registration, verification, login, logout, reset and the second factor
(docs/security.md §1-§7)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pyotp
import pytest
from argon2 import extract_parameters
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import User
from directory.services import accounts, passwords
from tests.conftest import login, post_form, totp_now
from tests.factories import PASSWORD, UserFactory
from tests.web._mail import last_to, link_in, messages, path_of

GOOD_PASSWORD = "a perfectly long passphrase"


def register(
    client, email="New.Person@Example.COM ", name="New Person", password=GOOD_PASSWORD, **extra
):
    return post_form(
        client,
        "/auth/register",
        {"email": email, "display_name": name, "password": password, **extra},
    )


def user_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(User.id))).scalar()


def get_user(app, email):
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def make_user(app, **kw):
    with app.app_context():
        user = UserFactory(**kw)
        db.session.refresh(user)
        db.session.expunge(user)
        return user


class CountingHasher:
    """The real hasher, counting verifications (a spy, not a mock: it still hashes)."""

    def __init__(self, real, calls):
        self.real, self.calls = real, calls

    def verify(self, stored, password):
        self.calls.append(stored)
        return self.real.verify(stored, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


def normalised(html: str) -> str:
    """A page without what differs per request (CSRF tokens, nonces, request ids)."""
    html = re.sub(r'(name="csrf[_-]token"\s+(?:value|content)=)"[^"]+"', r'\1""', html)
    html = re.sub(r'nonce="[^"]+"', 'nonce=""', html)
    html = re.sub(r'value="[^"]*@[^"]*"', 'value=""', html)
    return html


def cookie(client, name):
    c = client.get_cookie(name)
    return c.value if c is not None else None


def replay(app, **cookies):
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


# --- registration (docs/security.md §1, §2) -----------------------------------------------------


def test_registration_normalises_email_hashes_with_argon2id_and_sends_a_verification_link(
    app, client
):
    resp = register(client)
    assert resp.status_code == 302
    user = get_user(app, "new.person@example.com")
    assert user is not None and user.role == "consumer"
    assert not user.email_verified
    params = extract_parameters(user.password_hash)
    assert user.password_hash.startswith("$argon2id$")
    assert params.memory_cost >= 19456 and params.time_cost >= 2
    print(f"argon2id m={params.memory_cost} t={params.time_cost} p={params.parallelism}")
    msg = last_to(app, "new.person@example.com")
    link = link_in(msg, "/auth/verify/")
    assert link.startswith("http://localhost/auth/verify/")  # CANONICAL_URL, not the Host


@pytest.mark.parametrize(
    "password",
    [
        "é" * 12,  # non-ASCII
        "x" * 12 + "Ω≈ç√∫˜µ≤≥÷ 你好世界",
        "a" + "b" * 300,  # long
        "all lowercase words only",  # no composition rules
        "           twelve spaces",
    ],
)
def test_long_non_ascii_and_plain_passwords_are_accepted(app, client, password):
    assert register(client, password=password).status_code == 302
    user = get_user(app, "new.person@example.com")
    with app.app_context():
        assert passwords.verify_password(user.password_hash, password)


@pytest.mark.parametrize(
    "password,message",
    [
        ("short pass1", "at least 12"),
        ("passwordpassword", "common passwords"),
        ("Password2024!", "common passwords"),
        ("qwertyuiop123", "common passwords"),
        ("111111111111", "common passwords"),
        ("", "required"),
    ],
)
def test_short_and_common_passwords_are_refused(app, client, password, message):
    resp = register(client, password=password)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True).lower() or message == "required"
    assert user_count(app) == 0


def test_common_password_list_is_bundled_and_large():
    common = accounts.common_passwords()
    assert len(common) > 3000
    assert "password1234" in common


def test_a_taken_address_whatever_its_case_creates_nothing_and_its_owner_is_told(app, client):
    make_user(app, email="taken@example.com")
    resp = register(client, email="  TAKEN@example.com")
    assert resp.status_code == 302 and resp.location == "/auth/login"
    assert "already exists" not in client.get(resp.location).get_data(as_text=True)
    assert user_count(app) == 1
    assert last_to(app, "taken@example.com")["Subject"] == (
        "Someone tried to register with your address"
    )


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", "x" * 250 + "@e.com", ""])
def test_bad_email_is_refused(app, client, email):
    assert register(client, email=email).status_code == 400
    assert user_count(app) == 0


def test_extra_posted_fields_change_nothing_on_registration(app, client):
    register(
        client,
        role="admin",
        email_verified_at="2020-01-01",
        verified="1",
        session_token="x" * 20,
        id="999",
    )
    user = get_user(app, "new.person@example.com")
    assert user.role == "consumer" and not user.email_verified and user.id != 999
    assert user.session_token != "x" * 20


def test_registration_without_csrf_token_is_refused(app, client):
    resp = client.post(
        "/auth/register",
        data={"email": "a@example.com", "display_name": "A", "password": GOOD_PASSWORD},
    )
    assert resp.status_code == 400
    assert user_count(app) == 0


# --- e-mail verification ------------------------------------------------------------------


def test_verification_link_confirms_the_address_only_on_post(app, client):
    register(client)
    path = path_of(link_in(last_to(app, "new.person@example.com"), "/auth/verify/"))
    assert client.get(path).status_code == 200
    assert not get_user(app, "new.person@example.com").email_verified  # GET changes nothing
    resp = post_form(client, path)
    assert resp.status_code == 302
    assert get_user(app, "new.person@example.com").email_verified
    # Single use.
    assert client.get(path).status_code == 400
    assert post_form(client, path, form_url="/auth/reset").status_code == 400


def test_verification_link_dies_when_the_password_or_address_changes(app, client):
    register(client)
    path = path_of(link_in(last_to(app, "new.person@example.com"), "/auth/verify/"))
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        accounts.change_password(user, GOOD_PASSWORD, "another long passphrase")
        db.session.commit()
    assert client.get(path).status_code == 400
    register(app.test_client(), email="second@example.com")
    path = path_of(link_in(last_to(app, "second@example.com"), "/auth/verify/"))
    with app.app_context():
        user = db.session.execute(
            select(User).where(User.email == "second@example.com")
        ).scalar_one()
        accounts.change_email(user, GOOD_PASSWORD, "third@example.com")
        db.session.commit()
    assert client.get(path).status_code == 400
    assert not get_user(app, "third@example.com").email_verified


def test_tampered_and_expired_verification_links_are_refused(app, client, monkeypatch):
    register(client)
    path = path_of(link_in(last_to(app, "new.person@example.com"), "/auth/verify/"))
    assert client.get(path[:-3] + "abc").status_code == 400
    assert client.get("/auth/verify/" + "A" * 600).status_code == 400
    monkeypatch.setattr(accounts, "VERIFY_MAX_AGE", -1)
    resp = post_form(client, path, form_url="/auth/reset")
    assert resp.status_code == 400
    assert "expired" in resp.get_data(as_text=True)
    assert not get_user(app, "new.person@example.com").email_verified


def test_unverified_account_can_log_in_and_browse_but_is_marked_unverified(app, client):
    user = make_user(app, email_verified_at=None)
    resp = post_form(client, "/auth/login", {"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302
    page = client.get("/account")
    assert page.status_code == 200
    assert "not confirmed" in page.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_resend_verification_sends_a_new_link(app, client):
    user = make_user(app, email_verified_at=None)
    login(client, user)
    before = len(messages(app))
    assert post_form(client, "/auth/verify/resend", form_url="/account").status_code == 302
    assert len(messages(app)) == before + 1


# --- login (docs/security.md §3, §6) ------------------------------------------------------------


def test_login_with_right_password_logs_in_and_wrong_one_does_not(app, client):
    user = make_user(app)
    resp = post_form(client, "/auth/login", {"email": user.email.upper(), "password": "wrong one"})
    assert resp.status_code == 400
    assert client.get("/account").status_code == 302
    resp = post_form(
        client, "/auth/login", {"email": " " + user.email.upper(), "password": PASSWORD}
    )
    assert resp.status_code == 302 and resp.location == "/account"
    assert client.get("/account").status_code == 200


def test_unknown_email_and_wrong_password_get_the_same_answer_and_the_same_work(app, monkeypatch):
    user = make_user(app)
    calls = []
    monkeypatch.setattr(passwords, "HASHER", CountingHasher(passwords.HASHER, calls))
    answers = []
    for email in (user.email, "nobody@example.com"):
        c = app.test_client()
        resp = post_form(
            c,
            "/auth/login",
            {"email": email, "password": "not the password"},
            form_url="/auth/login",
        )
        answers.append((resp.status_code, normalised(resp.get_data(as_text=True))))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400
    assert len(calls) == 2  # one argon2 verification each


def test_login_sets_no_remember_cookie_unless_asked(app, client):
    user = make_user(app)
    post_form(client, "/auth/login", {"email": user.email, "password": PASSWORD})
    assert cookie(client, "remember_token") is None


def test_cookie_flags_in_production(app_factory):
    app = app_factory(PRODUCTION=True, TESTING=False, MAIL_BACKEND="smtp")
    user = make_user(app)
    client = app.test_client()
    resp = post_form(
        client, "/auth/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert resp.status_code == 302
    headers = resp.headers.getlist("Set-Cookie")
    session_c = next(h for h in headers if h.startswith("session="))
    remember_c = next(h for h in headers if h.startswith("remember_token="))
    for h in (session_c, remember_c):
        assert "HttpOnly" in h and "SameSite=Lax" in h and "Secure" in h
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember_c).group(1))
    assert expires <= datetime.now(UTC) + timedelta(days=30, minutes=1)
    assert "Strict-Transport-Security" in resp.headers


def test_login_never_redirects_off_site(app, client):
    user = make_user(app)
    resp = post_form(
        client,
        "/auth/login",
        {"email": user.email, "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert resp.location == "/account"


def test_login_follows_a_local_next(app, client):
    user = make_user(app)
    resp = post_form(
        client, "/auth/login", {"email": user.email, "password": PASSWORD, "next": "/clinics/x?y=1"}
    )
    assert resp.location == "/clinics/x?y=1"


# --- logout and sessions that end (docs/security.md §5) ------------------------------------------


def test_logout_is_a_post(app, client):
    user = make_user(app)
    login(client, user)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/account").status_code == 200


def test_logout_ends_the_session_and_the_remember_cookie_everywhere(app, client):
    user = make_user(app)
    post_form(client, "/auth/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    session_value = cookie(client, "session")
    remember_value = cookie(client, "remember_token")
    assert session_value and remember_value
    # Another device with only the remember cookie is logged in before the logout.
    assert replay(app, remember_token=remember_value).get("/account").status_code == 200
    resp = post_form(client, "/auth/logout", form_url="/account")
    assert resp.status_code == 302
    for cookies in (
        {"session": session_value},
        {"remember_token": remember_value},
        {"session": session_value, "remember_token": remember_value},
    ):
        resp = replay(app, **cookies).get("/account")
        assert resp.status_code == 302 and resp.location.startswith("/auth/login")


def test_logout_without_csrf_token_is_refused(app, client):
    user = make_user(app)
    login(client, user)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/account").status_code == 200


# --- password reset (docs/security.md §4) --------------------------------------------------------


def forgot(client, email):
    return post_form(client, "/auth/reset", {"email": email})


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app):
    user = make_user(app)
    answers = []
    for email in (user.email, "nobody@example.com"):
        c = app.test_client()
        resp = forgot(c, email)
        page = c.get(resp.location)
        answers.append((resp.status_code, resp.location, normalised(page.get_data(as_text=True))))
    assert answers[0] == answers[1]
    assert [m["To"] for m in messages(app)] == [user.email]


def test_reset_link_sets_a_new_password_once_and_ends_every_session(app, client):
    user = make_user(app)
    other = app.test_client()
    post_form(other, "/auth/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    old_session, old_remember = cookie(other, "session"), cookie(other, "remember_token")
    forgot(client, user.email)
    path = path_of(link_in(last_to(app, user.email), "/auth/reset/"))
    assert link_in(last_to(app, user.email), "/auth/reset/").startswith("http://localhost/")
    assert client.get(path).status_code == 200
    resp = post_form(client, path, {"password": "my brand new passphrase"})
    assert resp.status_code == 302
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert passwords.verify_password(stored.password_hash, "my brand new passphrase")
    # Single use: the link dies with the password it was made for.
    assert client.get(path).status_code == 400
    assert (
        post_form(
            client, path, {"password": "another new passphrase"}, form_url="/auth/reset"
        ).status_code
        == 400
    )
    for cookies in ({"session": old_session}, {"remember_token": old_remember}):
        resp = replay(app, **cookies).get("/account")
        assert resp.status_code == 302 and "/auth/login" in resp.location


def test_reset_link_dies_when_the_password_changes_otherwise(app, client):
    user = make_user(app)
    forgot(client, user.email)
    path = path_of(link_in(last_to(app, user.email), "/auth/reset/"))
    with app.app_context():
        u = db.session.get(User, user.id)
        accounts.change_password(u, PASSWORD, "changed in the meantime")
        db.session.commit()
    assert client.get(path).status_code == 400


def test_reset_link_expires_after_an_hour(app, client, monkeypatch):
    user = make_user(app)
    forgot(client, user.email)
    path = path_of(link_in(last_to(app, user.email), "/auth/reset/"))
    assert accounts.RESET_MAX_AGE == 3600
    monkeypatch.setattr(accounts, "RESET_MAX_AGE", -1)
    resp = client.get(path)
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)


def test_reset_refuses_a_common_password_and_keeps_the_old_one(app, client):
    user = make_user(app)
    forgot(client, user.email)
    path = path_of(link_in(last_to(app, user.email), "/auth/reset/"))
    assert post_form(client, path, {"password": "password123!"}).status_code == 400
    with app.app_context():
        assert passwords.verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


def test_a_verification_token_is_not_a_reset_token(app, client):
    register(client)
    verify = path_of(link_in(last_to(app, "new.person@example.com"), "/auth/verify/"))
    token = verify.rsplit("/", 1)[1]
    assert client.get("/auth/reset/" + token).status_code == 400


# --- the second factor for staff (docs/security.md §7) -------------------------------------------


def staff(app, role="moderator", confirmed=True):
    secret = pyotp.random_base32()
    with app.app_context():
        user = UserFactory(
            role=role,
            totp_secret=secret if confirmed else None,
            totp_confirmed_at=datetime.now(UTC) if confirmed else None,
        )
        db.session.refresh(user)
        db.session.expunge(user)
    return user, secret


def test_staff_login_is_sent_to_the_second_factor_before_any_admin_page(app, client):
    admin, secret = staff(app, "admin")
    resp = post_form(
        client, "/auth/login", {"email": admin.email, "password": PASSWORD, "next": "/admin/users"}
    )
    assert resp.status_code == 302 and resp.location.startswith("/auth/totp?next=")
    page = client.get("/admin/users")
    assert page.status_code == 302 and page.location.startswith("/auth/totp")
    resp = post_form(client, "/auth/totp", {"code": "000000", "next": "/admin/users"})
    assert resp.status_code == 400
    assert client.get("/admin/users").status_code == 302
    resp = post_form(client, "/auth/totp", {"code": totp_now(secret), "next": "/admin/users"})
    assert resp.status_code == 302 and resp.location == "/admin/users"
    assert client.get("/admin/users").status_code == 200


def test_second_factor_page_refuses_off_site_next(app, client):
    admin, secret = staff(app, "admin")
    login(client, admin)
    resp = post_form(
        client, "/auth/totp", {"code": totp_now(secret), "next": "https://evil.example/"}
    )
    assert resp.location == "/account"


def test_new_staff_without_a_secret_must_set_one_up(app, client):
    mod, _ = staff(app, "moderator", confirmed=False)
    resp = post_form(client, "/auth/login", {"email": mod.email, "password": PASSWORD})
    assert resp.location.startswith("/auth/totp/setup")
    assert client.get("/auth/totp").location.startswith("/auth/totp/setup")
    page = client.get("/auth/totp/setup")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "<script>" not in html
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html).group(1)
    # Opening the page stored nothing.
    with app.app_context():
        assert db.session.get(User, mod.id).totp_secret is None
    assert post_form(client, "/auth/totp/setup", {"code": "123456"}).status_code == 400
    resp = post_form(client, "/auth/totp/setup", {"code": totp_now(secret)})
    assert resp.status_code == 302
    with app.app_context():
        stored = db.session.get(User, mod.id)
        assert stored.totp_secret == secret and stored.totp_confirmed_at is not None


def test_consumers_cannot_open_the_second_factor_pages(app, client):
    login(client, make_user(app))
    assert client.get("/auth/totp").status_code == 403
    assert client.get("/auth/totp/setup").status_code == 403


def test_mfa_state_ends_with_the_session_token(app, client):
    admin, secret = staff(app, "admin")
    login(client, admin, mfa=True)
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        u = db.session.get(User, admin.id)
        u.rotate_session_token()
        db.session.commit()
    assert client.get("/admin/users").status_code == 302
