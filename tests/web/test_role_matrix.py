"""Role x route matrix over every state-changing (POST) route (SECURITY.md 10, 11).

A world with anonymous, two consumers, two clinic owners (each owning a clinic), a
moderator and an admin (both past their second factor). For each POST route the
table says how to build its URL and valid form data and which roles may do it.
Every cell is tried: allowed means neither 401/403/404 nor a login redirect;
refused means a login redirect, 403 or 404, and the database unchanged.
When merging, add a row for each new POST route: a test fails on any POST
endpoint missing from the table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from sqlalchemy import select

from directory.extensions import db
from directory.models import User
from directory.services import accounts
from tests.conftest import csrf_from
from tests.factories import PASSWORD, ClinicFactory, UserFactory

ROLES = ("anonymous", "consumer1", "consumer2", "owner1", "owner2", "moderator", "admin")
ALL = frozenset(ROLES)
LOGGED_IN = ALL - {"anonymous"}
STAFF = frozenset({"moderator", "admin"})
ADMIN = frozenset({"admin"})
_n = itertools.count(1)


@dataclass
class World:
    ids: dict
    secrets: dict


def build_world(app) -> World:
    with app.app_context():
        now = datetime.now(UTC)
        users = {
            "consumer1": UserFactory(), "consumer2": UserFactory(),
            "owner1": UserFactory(role="clinic_owner"), "owner2": UserFactory(role="clinic_owner"),
            "moderator": UserFactory(role="moderator", totp_secret=pyotp.random_base32(),
                                     totp_confirmed_at=now),
            "admin": UserFactory(role="admin", totp_secret=pyotp.random_base32(),
                                 totp_confirmed_at=now),
            "target": UserFactory(),
            "unverified": UserFactory(email_verified_at=None),
        }
        ClinicFactory(owner=users["owner1"], status="claimed")
        ClinicFactory(owner=users["owner2"], status="claimed")
        db.session.commit()
        ids = {k: u.id for k, u in users.items()}
        ids.update({f"{k}_email": u.email for k, u in users.items()})
        secrets = {k: users[k].totp_secret for k in ("moderator", "admin")}
    return World(ids, secrets)


def _in_app(app, fn):
    with app.app_context():
        return fn()


def verify_url(app, w: World) -> str:
    def make():
        user = db.session.get(User, w.ids["unverified"])
        return "/auth/verify/" + accounts.make_verify_token(user)
    return _in_app(app, make)


def reset_url(app, w: World) -> str:
    def make():
        return "/auth/reset/" + accounts.make_reset_token(db.session.get(User, w.ids["target"]))
    return _in_app(app, make)


@dataclass
class Row:
    url: Callable          # (app, world) -> url
    data: Callable         # (app, world, role) -> form data
    allowed: frozenset


def unique_email(prefix: str) -> str:
    return f"{prefix}{next(_n)}@example.com"


TABLE: dict[str, Row] = {
    "auth.register": Row(lambda a, w: "/auth/register",
                         lambda a, w, r: {"email": unique_email("new"), "display_name": "New",
                                          "password": "a long new passphrase"}, ALL),
    "auth.login": Row(lambda a, w: "/auth/login",
                      lambda a, w, r: {"email": w.ids["target_email"], "password": PASSWORD},
                      ALL),
    "auth.logout": Row(lambda a, w: "/auth/logout", lambda a, w, r: {}, LOGGED_IN),
    "auth.verify_confirm": Row(verify_url, lambda a, w, r: {}, ALL),
    "auth.resend_verification": Row(lambda a, w: "/auth/verify/resend", lambda a, w, r: {},
                                    LOGGED_IN),
    "auth.reset_request": Row(lambda a, w: "/auth/reset",
                              lambda a, w, r: {"email": w.ids["target_email"]}, ALL),
    "auth.reset_token": Row(reset_url, lambda a, w, r: {"password": f"reset passphrase {r}"},
                            ALL),
    "auth.totp_setup": Row(lambda a, w: "/auth/totp/setup", lambda a, w, r: {"code": "123456"},
                           STAFF),
    "auth.totp_verify": Row(lambda a, w: "/auth/totp",
                            lambda a, w, r: {"code": pyotp.TOTP(w.secrets.get(r) or
                                                                pyotp.random_base32()).now()},
                            STAFF),
    "account.password": Row(lambda a, w: "/account/password",
                            lambda a, w, r: {"current": PASSWORD,
                                             "password": "a changed passphrase"}, LOGGED_IN),
    "account.email": Row(lambda a, w: "/account/email",
                         lambda a, w, r: {"email": unique_email("moved"), "password": PASSWORD},
                         LOGGED_IN),
    "account.delete": Row(lambda a, w: "/account/delete",
                          lambda a, w, r: {"reviews": "remove", "password": PASSWORD}, LOGGED_IN),
    "admin.set_role": Row(lambda a, w: f"/admin/users/{w.ids['target']}/role",
                          lambda a, w, r: {"role": "moderator",
                                           "statement": "Trusted community member."}, ADMIN),
}


def snapshot(app) -> dict:
    def read():
        out = {}
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
        return out
    return _in_app(app, read)


def client_for(app, w: World, role: str):
    client = app.test_client()
    if role == "anonymous":
        return client
    token = csrf_from(client, "/auth/login")
    resp = client.post("/auth/login", data={"csrf_token": token, "email": w.ids[f"{role}_email"],
                                            "password": PASSWORD})
    assert resp.status_code == 302, role
    if role in STAFF:
        token = csrf_from(client, "/auth/totp")
        resp = client.post("/auth/totp", data={"csrf_token": token,
                                               "code": pyotp.TOTP(w.secrets[role]).now()})
        assert resp.status_code == 302, role
    return client


def is_login_redirect(resp) -> bool:
    # Guards send the visitor to log in *with* a next= back to the page; a plain
    # redirect to /auth/login is how successful resets and verifications end.
    return (resp.status_code in (301, 302, 303) and resp.location.startswith("/auth/login?")
            and "next=" in resp.location)


def test_every_post_endpoint_is_in_the_matrix(app):
    posts = sorted({r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods})
    missing = [e for e in posts if e not in TABLE]
    print(f"POST endpoints: {len(posts)}; missing from the matrix: {missing}")
    assert missing == []


def test_role_matrix(app_factory):
    cells = 0
    mismatches = []
    for endpoint, row in TABLE.items():
        app = app_factory()
        world = build_world(app)
        for role in ROLES:
            client = client_for(app, world, role)
            url = row.url(app, world)
            data = dict(row.data(app, world, role))
            data["csrf_token"] = csrf_from(client, "/auth/reset")
            before = snapshot(app)
            resp = client.post(url, data=data)
            cells += 1
            refused = resp.status_code in (401, 403, 404) or is_login_redirect(resp)
            if role in row.allowed:
                if refused or resp.status_code >= 500:
                    mismatches.append((endpoint, role, "should be allowed", resp.status_code,
                                       resp.location))
            else:
                if not refused:
                    mismatches.append((endpoint, role, "should be refused", resp.status_code,
                                       resp.location))
                elif snapshot(app) != before:
                    mismatches.append((endpoint, role, "refused but the database changed",
                                       resp.status_code, None))
    print(f"role matrix: {len(TABLE)} POST routes x {len(ROLES)} roles = {cells} cells, "
          f"{len(mismatches)} mismatches")
    for m in mismatches:
        print("  mismatch:", m)
    assert mismatches == []
