"""Shared fixtures: a fresh app per test with its own SQLite file (or PostgreSQL
schema when DIRECTORY_TEST_DATABASE_URI is set), index and media folders."""

from __future__ import annotations

import os
import re
import time

import pyotp
import pytest
from flask import session
from flask_login import login_user
from sqlalchemy import text

from directory import create_app
from directory.extensions import db
from directory.models import User

PG_URI = os.environ.get("DIRECTORY_TEST_DATABASE_URI")


def pytest_configure(config):
    """Generate Bootstrap's trimmed CSS (scripts/trim_bootstrap.py) before any worker
    starts, as `make` does: the pages link it, and it is never committed."""
    if hasattr(config, "workerinput"):
        return
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "trim_bootstrap.py"
    subprocess.run([sys.executable, str(script)], check=True, stdout=subprocess.DEVNULL)


def _pg_uri(worker: str) -> str:
    schema = f"t_{re.sub(r'[^a-z0-9]', '', worker.lower()) or 'main'}"
    sep = "&" if "?" in PG_URI else "?"
    return f"{PG_URI}{sep}options=-csearch_path%3D{schema}", schema


def make_config(tmp_path, worker: str = "main", **overrides) -> dict:
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-1234567890",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "test.sqlite3"),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        "CANONICAL_URL": "http://localhost",
        "TRUSTED_HOSTS": None,
        # Profile views written at once (the site adds them up for a few seconds).
        "VIEW_COUNT_FLUSH_S": 0,
        # A search past its time limit says "may be incomplete" and is never cached; on a
        # busy 2-core machine a first search (searcher, gazetteer) can pass the 0.5 s
        # production limit, which made cache tests fail now and then. Tests of the limit
        # set their own.
        "SEARCH_TIME_LIMIT_S": 10,
    }
    if PG_URI:
        cfg["SQLALCHEMY_DATABASE_URI"], cfg["PG_SCHEMA"] = _pg_uri(worker)
    cfg.update(overrides)
    return cfg


# The PostgreSQL schemas this process has built from the models: the next test
# empties their tables and restarts their sequences (ids start at 1 again, as in a
# new schema) instead of dropping and creating some forty tables again: about 0.03 s
# a test instead of 0.4 s.
_built_schemas: set[str] = set()


def reset_schema(app) -> None:
    with app.app_context():
        if PG_URI:
            schema = app.config["PG_SCHEMA"]
            if schema in _built_schemas and _emptied(schema):
                return
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            db.create_all()
            _built_schemas.add(schema)
            return
        db.create_all()


def _emptied(schema: str) -> bool:
    """Empty every table of the models in the schema; False when the schema no longer
    has them all (a test dropped or rebuilt it), and it is then built anew."""
    names = [t.name for t in db.metadata.sorted_tables]
    try:
        with db.engine.begin() as conn:
            present = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                ).scalars()
            )
            if not set(names) <= present:
                return False
            for name in reversed(names):  # small tables: DELETE beats TRUNCATE's file work
                conn.execute(text(f'DELETE FROM {schema}."{name}"'))
            conn.execute(
                text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
                    "FROM pg_sequences WHERE schemaname = :s"
                ),
                {"s": schema},
            )
    except Exception:  # noqa: BLE001 - anything odd: drop and build the schema instead
        return False
    return True


@pytest.fixture
def app_factory(tmp_path, worker_id):
    """Build an app with extra config; the schema is created fresh unless
    fresh_schema=False (another app on the same database and instance folder)."""
    made = []

    def factory(fresh_schema: bool = True, **overrides):
        app = create_app(make_config(tmp_path, worker_id, **overrides))
        if fresh_schema:
            reset_schema(app)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def worker_id(request):
    # pytest-xdist provides worker_id; fall back when running without it.
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


CSRF_RE = re.compile(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"')


def csrf_from(client, url: str = "/") -> str:
    """The CSRF token a page hands out to this client (its session)."""
    html = client.get(url).get_data(as_text=True)
    m = CSRF_RE.search(html)
    if m is None:
        raise AssertionError(f"no CSRF token on {url}")
    return m.group(1)


def login(client, user, mfa: bool = False, fresh: bool = True) -> None:
    """Log a user (a User or a user id) in on this test client the way the auth
    blueprint does: the tests' one login helper.

    Flask-Login's user id is the user's session token; `mfa_ok` marks a second
    factor passed in this session (needed for moderation and admin pages).
    """
    # login_user in a request context that looks like this client's requests fills
    # the session exactly as the auth blueprint does (user token, freshness and the
    # identity that "basic" session protection compares); then hand it to the client.
    with client.application.test_request_context(environ_base=dict(client.environ_base)):
        if isinstance(user, int):
            user = db.session.get(User, user)
        login_user(user, fresh=fresh)
        filled = dict(session)
    with client.session_transaction() as sess:
        sess.update(filled)
        if mfa:
            sess["mfa_ok"] = user.session_token


def post_form(client, url: str, data: dict | None = None, *, form_url: str | None = None, **kwargs):
    """POST with a valid CSRF token taken from form_url (default: the same url)."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_from(client, form_url or url))
    return client.post(url, data=payload, **kwargs)


_USED_STEPS: dict[str, int] = {}


def totp_now(secret: str) -> str:
    """A current code for a 30-second step this test process has not used yet.

    The app accepts each step's code once (replay protection), so a test that logs
    the same staff member in twice within one step waits for the next step.
    """
    totp = pyotp.TOTP(secret)
    while True:
        step = int(time.time()) // totp.interval
        if _USED_STEPS.get(secret, -1) < step:
            break
        time.sleep((step + 1) * totp.interval - time.time() + 0.05)
    _USED_STEPS[secret] = step
    return totp.at(step * totp.interval)
