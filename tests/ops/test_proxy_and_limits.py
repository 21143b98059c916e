"""Behind a reverse proxy with several gunicorn workers: per-IP limits count the
real client address, a forged X-Forwarded-For changes nothing, every limit holds
exactly with the embedded (SQLite) store, and gunicorn's real worker count is
checked at start-up."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.factories import UserFactory
from tests.ops.servers import BIN, ROOT, Client, ReverseProxy, app_env, gunicorn, wait_http


@pytest.fixture
def site(app_factory, tmp_path):
    """Two gunicorn workers behind one proxy hop, login limited per IP to 3/minute."""
    app = app_factory()
    with app.app_context():
        UserFactory(email="member@example.com")
        from directory.extensions import db

        db.session.commit()
    proc, base = gunicorn(
        app,
        tmp_path,
        workers=2,
        DIRECTORY_PROXY_HOPS="1",
        DIRECTORY_RATELIMIT_LOGIN_IP="3/minute",
        DIRECTORY_RATELIMIT_LOGIN_ACCOUNT="5/minute",
    )
    proxy = None
    try:
        wait_http(base, proc)
        proxy = ReverseProxy(base)
        yield proxy, proc
    finally:
        if proxy:
            proxy.stop()
        proc.stop()


def login_attempt(client: Client, email: str, headers=None) -> int:
    status, _, _ = client.post(
        "/auth/login", {"email": email, "password": "wrong password"}, headers=headers
    )
    return status


def test_per_ip_limit_counts_the_real_client_behind_the_proxy(site):
    proxy, _ = site
    a = Client(proxy.base, source="127.0.0.2")
    b = Client(proxy.base, source="127.0.0.3")
    # Client A, with a different forged address each time: the forgery is ignored.
    statuses_a = [
        login_attempt(a, f"nobody{i}@example.com", headers={"X-Forwarded-For": f"10.9.9.{i}"})
        for i in range(4)
    ]
    assert statuses_a == [400, 400, 400, 429]
    # Client B is another visitor: its own budget, not the proxy's shared one.
    assert login_attempt(b, "someone@example.com") == 400


def test_login_limit_per_account_is_exact_across_two_workers(site):
    proxy, _ = site
    clients = [Client(proxy.base, source=f"127.0.1.{i + 1}") for i in range(10)]
    for c in clients:
        c.csrf("/auth/login")  # a session each, before the burst

    def attempt(c):
        return login_attempt(c, "member@example.com")

    # The per-account limit counts in fixed one-minute windows: a burst that straddles
    # the turn of a minute is counted in two windows. Start it well inside one.
    while time.time() % 60 > 45:
        time.sleep(0.5)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, clients))
    # 10 tries at once from 10 addresses over 2 worker processes: exactly 5 pass.
    assert sorted(statuses) == [400] * 5 + [429] * 5


def test_access_log_has_time_request_id_and_forwarded_address(site):
    proxy, proc = site
    status, headers, _ = Client(proxy.base, source="127.0.0.4").get("/")
    assert status == 200
    rid = headers["X-Request-ID"]
    from tests.ops.servers import wait_until

    line = wait_until(
        lambda: next((ln for ln in proc.output().splitlines() if f"rid={rid}" in ln), None),
        30,
        "the access log line",
    )
    assert "127.0.0.4" in line and '"GET / HTTP/1.1" 200' in line
    assert line.startswith("[")  # gunicorn's timestamp


def test_gunicorn_refuses_several_workers_with_memory_limits(app, tmp_path):
    env = app_env(app, DIRECTORY_RATELIMIT_STORAGE_URI="memory://")
    env["WEB_CONCURRENCY"] = "3"
    done = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "wsgi:app"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "3 workers with the memory rate-limit store" in done.stderr
