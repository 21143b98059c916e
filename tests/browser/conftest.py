"""Real Chromium (Debian's) driven by Playwright against the real app served by
gunicorn on a free port, with a temporary instance folder and demo data."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from directory.demo import DEMO_PASSWORD
from tests.conftest import PG_URI, totp_now

BROWSER_TIMEOUT_MS = 45_000

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, env: dict, instance: Path):
        self.url = url
        self.env = env
        self.instance = instance

    def flask(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a `flask --app directory` command against the live server's instance."""
        return subprocess.run(
            [str(BIN / "flask"), "--app", "directory", *args],
            env=self.env,
            cwd=ROOT,
            input=input,
            capture_output=True,
            text=True,
            check=True,
        )

    @property
    def mail_dir(self) -> Path:
        """Where the server's file mail backend writes (read with tests.web._mail)."""
        return self.instance / "mail"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, worker_id):
    instance = tmp_path_factory.mktemp("live") / "instance"
    instance.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORY_")}
    env.update(
        {
            "DIRECTORY_INSTANCE_PATH": str(instance),
            "DIRECTORY_SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
            "DIRECTORY_CANONICAL_URL": f"http://127.0.0.1:{port}",
            "DIRECTORY_RATELIMIT_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if PG_URI:
        schema = f"browser_{worker_id}"
        engine = create_engine(PG_URI)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        sep = "&" if "?" in PG_URI else "?"
        env["DIRECTORY_SQLALCHEMY_DATABASE_URI"] = f"{PG_URI}{sep}options=-csearch_path%3D{schema}"
    server = LiveServer(f"http://127.0.0.1:{port}", env, instance)
    server.flask("db", "upgrade")
    server.flask("seed-demo", "--clinics", "16", "--seed", "7")
    commands = server.flask("--help").stdout
    if "search" in commands:
        server.flask("search", "rebuild")
    log = open(instance / "server.log", "w")  # noqa: SIM115 - open for the whole session
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "60",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(server.url + "/robots.txt", timeout=2).read()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(
                    "live server did not start:\n" + (instance / "server.log").read_text()
                )
            time.sleep(0.2)
    yield server
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    # Generous: on a busy 2-core machine a page can take seconds. Tests wait for what
    # the user sees (an element, a URL), never for a fixed time.
    pg.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield pg
    context.close()


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [v for v in result.response["violations"] if v.get("impact") in ("serious", "critical")]


def screenshot(page, name: str) -> None:
    """Keep a screenshot when SCREENSHOT_DIR is set (for looking at the pages)."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def log_in(
    page,
    email: str,
    password: str = DEMO_PASSWORD,
    *,
    totp_secret: str | None = None,
    remember: bool = False,
) -> None:
    """Log in through the login form, and the second factor when `totp_secret` is given;
    returns once the browser has left the form (for wherever the site sends the user)."""
    page.goto("/auth/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    if remember:
        page.get_by_label("Keep me logged in").check()
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    if totp_secret:
        page.wait_for_url(re.compile(r"/auth/totp\b"))
        page.get_by_label("6-digit code").fill(totp_now(totp_secret))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/auth/totp" not in url)
