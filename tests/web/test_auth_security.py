"""The site-wide baseline: open redirects, brute force and rate limits, CSRF on
every POST, headers, request bounds, trusted hosts, error pages and logs
(docs/security.md §3, §16, §18, §19, §20, §21, §40)."""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from urllib.parse import urljoin, urlsplit

import pytest

from directory import create_app
from directory.auth.redirects import safe_next
from directory.config import ConfigError
from directory.extensions import db
from directory.guards import public
from directory.services import passwords
from tests.conftest import csrf_from, login, make_config, post_form, totp_now
from tests.factories import PASSWORD
from tests.web._mail import link_in, messages, path_of
from tests.web.test_auth import CountingHasher, make_user, staff

OPEN_REDIRECTS = [
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "//evil.example/%2F..",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "http://evil.example",
    "https://evil.example/account",
    "http:///evil.example",
    "http:/evil.example",
    "https:evil.example",
    "HTTP://EVIL.EXAMPLE",
    "hTtPs://evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.domain)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%2Fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "//localhost@evil.example",
    "https://localhost@evil.example",
    "//evil.example:80@localhost",
    "/ /evil.example",
    "//%65vil.example",
    "evil.example",
    "@evil.example",
    "ftp://evil.example",
    "\x00//evil.example",
    "/\x00/evil.example",
    "//evil%E3%80%82example",
    "／／evil.example",
]
LOCAL_TARGETS = [
    "/",
    "/account",
    "/search?q=hairline&page=2",
    "/clinics/a-b-c/reviews",
    "/search?q=caf%C3%A9",
]


def lands_locally(location: str) -> bool:
    """Where a browser would go, read leniently (backslashes as slashes, tabs and
    newlines dropped, as browsers do)."""
    loose = re.sub(r"[\t\r\n\x00]", "", location).replace("\\", "/")
    resolved = urlsplit(urljoin("http://localhost/auth/login", loose))
    return resolved.scheme == "http" and resolved.netloc == "localhost"


def test_open_redirect_corpus_is_large_enough():
    assert len(OPEN_REDIRECTS) >= 30


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_safe_next_refuses_off_site_targets(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", LOCAL_TARGETS)
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target) == target


def test_login_and_totp_pages_land_locally_for_every_off_site_next(app):
    user = make_user(app)
    tried = 0
    for target in OPEN_REDIRECTS:
        admin, secret = staff(app, "admin")  # a fresh secret: each TOTP code works once
        client = app.test_client()
        resp = post_form(
            client,
            "/auth/login",
            {"email": user.email, "password": PASSWORD, "next": target},
            form_url="/auth/login",
        )
        assert resp.status_code == 302 and lands_locally(resp.location), (target, resp.location)
        assert resp.location == "/account"
        # Already logged in: GET /auth/login?next=... redirects too.
        resp = client.get("/auth/login", query_string={"next": target})
        assert lands_locally(resp.location), (target, resp.location)
        staff_client = app.test_client()
        login(staff_client, admin)
        resp = post_form(staff_client, "/auth/totp", {"code": totp_now(secret), "next": target})
        assert resp.status_code == 302 and lands_locally(resp.location), (target, resp.location)
        html = staff_client.get("/auth/totp", query_string={"next": target}).get_data(as_text=True)
        hidden = re.search(r'name="next" type="hidden" value="([^"]*)"', html).group(1)
        assert hidden == "/account", (target, hidden)
        tried += 1
    print(
        f"open-redirect payloads tried: {tried} x 4 entry points (login POST, login GET, "
        "totp POST, totp GET)"
    )


# --- brute force and rate limits (docs/security.md §3) -------------------------------------------


def client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_login_attempts_on_one_account_get_429_before_any_hashing(app_factory, monkeypatch):
    app = app_factory(RATELIMIT_ENABLED=True)
    user = make_user(app)
    calls: list = []
    monkeypatch.setattr(passwords, "HASHER", CountingHasher(passwords.HASHER, calls))
    statuses = []
    for i in range(12):
        # A new client address for every attempt: the per-account limit still holds.
        client = client_from(app, f"10.1.0.{i + 1}")
        resp = post_form(
            client,
            "/auth/login",
            {"email": user.email, "password": f"guess {i}"},
            form_url="/auth/login",
        )
        statuses.append(resp.status_code)
    n429 = statuses.count(429)
    print(f"per-account brute force: attempts={len(statuses)} 429s={n429} hash calls={len(calls)}")
    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429] * 7
    assert len(calls) == 5
    # Even the right password is refused while the account is limited.
    client = client_from(app, "10.1.1.1")
    resp = post_form(
        client, "/auth/login", {"email": user.email, "password": PASSWORD}, form_url="/auth/login"
    )
    assert resp.status_code == 429 and len(calls) == 5
    assert "Too many requests" in resp.get_data(as_text=True)


def test_login_attempts_from_one_address_get_429_before_any_hashing(app_factory, monkeypatch):
    app = app_factory(RATELIMIT_ENABLED=True)
    calls: list = []
    monkeypatch.setattr(passwords, "HASHER", CountingHasher(passwords.HASHER, calls))
    client = client_from(app, "10.2.0.1")
    token = csrf_from(client, "/auth/login")
    statuses = []
    for i in range(35):
        resp = client.post(
            "/auth/login",
            data={
                "csrf_token": token,
                "email": f"nobody{i}@example.com",
                "password": "some guess here",
            },
        )
        statuses.append(resp.status_code)
    n429 = statuses.count(429)
    print(f"per-address brute force: attempts={len(statuses)} 429s={n429} hash calls={len(calls)}")
    assert statuses[:30] == [400] * 30 and statuses[30:] == [429] * 5
    assert len(calls) == 30


def test_registration_and_reset_are_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_REGISTER="3/hour", RATELIMIT_RESET="2/hour")
    client = app.test_client()
    token = csrf_from(client, "/auth/register")
    statuses = [
        client.post(
            "/auth/register",
            data={"csrf_token": token, "email": "bad", "display_name": "x", "password": "y"},
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    statuses = [
        client.post(
            "/auth/reset", data={"csrf_token": token, "email": f"a{i}@example.com"}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_named_limits_exist_for_the_other_routes(app):
    for name in (
        "RATELIMIT_REVIEW",
        "RATELIMIT_REPORT",
        "RATELIMIT_SEARCH",
        "RATELIMIT_LOGIN_IP",
        "RATELIMIT_LOGIN_ACCOUNT",
        "RATELIMIT_REGISTER",
        "RATELIMIT_RESET",
    ):
        assert re.fullmatch(
            r"\d+/(second|minute|hour|day)(;\d+/(second|minute|hour|day))*", app.config[name]
        ), name


@pytest.mark.skipif(
    not os.environ.get("DIRECTORY_TEST_REDIS_URI"), reason="DIRECTORY_TEST_REDIS_URI not set"
)
def test_login_limit_works_against_redis(app_factory):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=os.environ["DIRECTORY_TEST_REDIS_URI"],
        RATELIMIT_KEY_PREFIX="test-" + secrets.token_hex(6),
    )
    user = make_user(app)
    statuses = []
    for i in range(7):
        client = client_from(app, f"10.3.0.{i + 1}")
        statuses.append(
            post_form(
                client,
                "/auth/login",
                {"email": user.email, "password": "x"},
                form_url="/auth/login",
            ).status_code
        )
    assert statuses == [400] * 5 + [429] * 2


def test_production_refuses_memory_rate_limits_with_several_workers(tmp_path):
    cfg = make_config(
        tmp_path,
        TESTING=False,
        PRODUCTION=True,
        WORKERS=2,
        MAIL_BACKEND="smtp",
        RATELIMIT_STORAGE_URI="memory://",
    )
    with pytest.raises(ConfigError, match="shared rate-limit store"):
        create_app(cfg)
    cfg["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379"
    create_app(cfg)  # accepted with a shared store
    cfg.update(WORKERS=1, RATELIMIT_STORAGE_URI="memory://")
    create_app(cfg)  # one worker may count in memory


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"DEBUG": True}, "DEBUG"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY"),
    ],
)
def test_production_refuses_to_start_with_debug_or_a_weak_secret(tmp_path, overrides, message):
    cfg = make_config(tmp_path, TESTING=False, PRODUCTION=True, **overrides)
    with pytest.raises(ConfigError, match=message):
        create_app(cfg)


# --- CSRF on every POST (docs/security.md §18) ---------------------------------------------------


def post_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if "POST" in r.methods), key=lambda r: r.endpoint
    )


def build_url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        conv = rule._converters[arg]
        kind = type(conv).__name__
        if kind == "IntegerConverter":
            values[arg] = 1
        elif kind == "AnyConverter":
            values[arg] = sorted(conv.items)[0]  # any(...) only builds one of its values
        else:
            values[arg] = "x"
    from flask import url_for

    return url_for(rule.endpoint, **values)


def test_every_post_route_refuses_missing_foreign_and_expired_csrf_tokens(app_factory):
    app = app_factory(WTF_CSRF_TIME_LIMIT=1)
    admin, _ = staff(app, "admin")
    client = app.test_client()
    login(client, admin, mfa=True)
    stranger = app.test_client()
    foreign = csrf_from(stranger, "/auth/login")
    expired = csrf_from(client, "/account")
    time.sleep(2.1)
    with app.test_request_context():
        urls = [(r.endpoint, build_url(r)) for r in post_rules(app)]
    tested = []
    for endpoint, url in urls:
        for label, data in (
            ("missing", {}),
            ("foreign", {"csrf_token": foreign}),
            ("expired", {"csrf_token": expired}),
            ("garbage", {"csrf_token": "x" * 40}),
        ):
            resp = client.post(url, data=data)
            assert resp.status_code == 400, (endpoint, label, resp.status_code)
        tested.append(endpoint)
    # Logged in still, nothing changed.
    assert client.get("/account").status_code == 200
    print(f"CSRF: {len(tested)} POST routes x 4 bad tokens: {', '.join(tested)}")
    assert len(tested) >= 10


def test_no_get_route_of_the_accounts_blueprints_changes_the_session_token(app):
    user = make_user(app)
    client = app.test_client()
    login(client, user)
    for url in (
        "/auth/logout",
        "/account",
        "/account/password",
        "/account/email",
        "/account/delete",
        "/account/export",
        "/auth/verify/resend",
    ):
        client.get(url)
    with app.app_context():
        from directory.models import User

        assert db.session.get(User, user.id).session_token == user.session_token


# --- headers (docs/security.md §19) --------------------------------------------------------------


def csp_parts(resp) -> dict[str, str]:
    csp = resp.headers["Content-Security-Policy"]
    return {p.split()[0]: p.strip() for p in csp.split(";") if p.strip()}


def test_security_headers_on_every_kind_of_response(app):
    user = make_user(app)
    client = app.test_client()
    responses = [
        client.get("/"),
        client.get("/auth/login"),
        client.get("/no-such-page"),
        client.post("/auth/login"),
        client.get("/auth/logout"),
    ]
    login(client, user)
    responses += [client.get("/account"), client.get("/account/export"), client.get("/admin/users")]
    nonces = set()
    for resp in responses:
        parts = csp_parts(resp)
        assert parts["default-src"] == "default-src 'self'"
        assert "'unsafe-inline'" not in parts["script-src"]
        assert parts["object-src"] == "object-src 'none'"
        assert parts["base-uri"] == "base-uri 'none'"
        assert parts["frame-ancestors"] == "frame-ancestors 'none'"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in resp.headers  # not outside production
        nonce = re.search(r"'nonce-([^']+)'", parts["script-src"]).group(1)
        nonces.add(nonce)
        if resp.mimetype == "text/html":
            for tag in re.findall(r"<script\b[^>]*>", resp.get_data(as_text=True)):
                # A data block (JSON-LD) is never run, so no policy governs it.
                data_block = 'type="application/ld+json"' in tag
                assert "src=" in tag or data_block or f'nonce="{nonce}"' in tag, tag
            assert not re.search(r"\son[a-z]+\s*=", resp.get_data(as_text=True))
    assert len(nonces) == len(responses)  # a fresh nonce per response


def test_hsts_in_production(app_factory):
    app = app_factory(PRODUCTION=True, TESTING=False, MAIL_BACKEND="smtp")
    resp = app.test_client().get("/auth/login")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- request bounds and hosts (docs/security.md §21) ---------------------------------------------


def test_request_size_bounds_are_configured(app):
    assert app.config["MAX_CONTENT_LENGTH"] and app.config["MAX_FORM_MEMORY_SIZE"]
    assert app.config["MAX_FORM_PARTS"]


def test_a_body_over_max_content_length_gets_413(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=4096)
    client = app.test_client()
    token = csrf_from(client, "/auth/login")
    resp = client.post(
        "/auth/login",
        data={"csrf_token": token, "email": "a@example.com", "password": "x" * 10_000},
    )
    assert resp.status_code == 413
    assert "Too large" in resp.get_data(as_text=True)


def test_too_many_form_parts_or_a_huge_field_get_413(app_factory):
    app = app_factory(MAX_FORM_PARTS=20, MAX_FORM_MEMORY_SIZE=2048)
    client = app.test_client()
    token = csrf_from(client, "/auth/login")
    many = {f"f{i}": "v" for i in range(50)}
    resp = client.post(
        "/auth/login", data={"csrf_token": token, **many}, content_type="multipart/form-data"
    )
    assert resp.status_code == 413
    resp = client.post(
        "/auth/login",
        data={"csrf_token": token, "email": "e" * 5000},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413


def test_a_foreign_host_is_refused_when_trusted_hosts_are_set(app_factory):
    app = app_factory(TRUSTED_HOSTS=["localhost"])
    client = app.test_client()
    assert client.get("/auth/login").status_code == 200
    assert client.get("/auth/login", headers={"Host": "evil.example"}).status_code == 400
    assert create_app.__module__ and app.config["TRUSTED_HOSTS"] == ["localhost"]


def test_default_config_sets_trusted_hosts():
    from directory.config import Defaults

    assert Defaults.TRUSTED_HOSTS


def test_mail_links_use_the_canonical_url_whatever_the_host_header(app):
    user = make_user(app)
    client = app.test_client()
    evil = {"Host": "evil.example"}
    html = client.get("/auth/reset", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    resp = client.post("/auth/reset", data={"csrf_token": token, "email": user.email}, headers=evil)
    assert resp.status_code == 302
    link = link_in(messages(app)[-1], "/auth/reset/")
    assert link.startswith("http://localhost/auth/reset/")


# --- error pages (docs/security.md §20) ----------------------------------------------------------


def test_an_unexpected_error_shows_a_generic_page_and_logs_the_traceback_under_its_id(
    app_factory, caplog
):
    app = app_factory(TESTING=False)

    @public
    def boom():
        raise ZeroDivisionError("secret detail SELECT * FROM users")

    app.add_url_rule("/boom", "boom", boom)
    with caplog.at_level(logging.ERROR):
        resp = app.test_client().get("/boom")
    html = resp.get_data(as_text=True)
    rid = resp.headers["X-Request-ID"]
    assert resp.status_code == 500
    assert rid in html
    assert "Traceback" not in html and "ZeroDivisionError" not in html and "SELECT" not in html
    records = [r for r in caplog.records if rid in r.getMessage()]
    assert records and records[0].exc_info is not None
    assert "ZeroDivisionError" in caplog.text and "Traceback" in caplog.text


# --- no secrets in logs (docs/security.md §40) ---------------------------------------------------


def test_passwords_tokens_and_cookies_never_reach_the_logs(app, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    first, second = "first secret passphrase", "second secret passphrase"
    post_form(
        client,
        "/auth/register",
        {"email": "logs@example.com", "display_name": "Logs", "password": first},
    )
    verify_url = link_in(messages(app)[-1], "/auth/verify/")
    post_form(client, path_of(verify_url))
    # Registering logs nobody in (the answer is the same for a taken address).
    post_form(client, "/auth/login", {"email": "logs@example.com", "password": first})
    post_form(client, "/auth/logout", form_url="/account")
    post_form(client, "/auth/login", {"email": "logs@example.com", "password": "wrong guess!!"})
    post_form(client, "/auth/reset", {"email": "logs@example.com"})
    reset_url = link_in(messages(app)[-1], "/auth/reset/")
    post_form(client, path_of(reset_url), {"password": second})
    post_form(
        client, "/auth/login", {"email": "logs@example.com", "password": second, "remember": "y"}
    )
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    text = caplog.text
    assert "mail written to" in text  # the mail service did log, without the body
    secrets_ = [
        first,
        second,
        "wrong guess!!",
        verify_url.rsplit("/", 1)[1],
        reset_url.rsplit("/", 1)[1],
        session_cookie,
        remember_cookie.split("|")[0],
    ]
    for s in secrets_:
        assert s not in text
    with app.app_context():
        from sqlalchemy import select

        from directory.models import User

        token = db.session.execute(select(User.session_token)).scalar()
    assert token not in text


def test_second_factor_guesses_are_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_TOTP="3/minute")
    admin, secret = staff(app, "admin")
    client = app.test_client()
    login(client, admin)
    token = csrf_from(client, "/auth/totp")
    statuses = [
        client.post("/auth/totp", data={"csrf_token": token, "code": "000000"}).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    resp = client.post("/auth/totp", data={"csrf_token": token, "code": totp_now(secret)})
    assert resp.status_code == 429
    assert client.get("/admin/users").status_code == 302
