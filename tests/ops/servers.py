"""Real processes for the operations tests: gunicorn, the job worker, a reverse proxy.

Each is started with the test app's database (SQLite file or the PostgreSQL
schema), instance folder and index folder, and stopped by the test.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def gunicorn_command(port: int) -> list[str]:
    """The web server as `make run` starts it (gunicorn.conf.py), on 127.0.0.1:port."""
    conf = ["-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    return [str(BIN / "gunicorn"), *conf, "wsgi:app"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(app, **extra) -> dict:
    """Environment for a process running the same site as `app` (a test app)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIRECTORY_", "PROMETHEUS"))}
    cfg = app.config
    env.update(
        {
            "DIRECTORY_INSTANCE_PATH": app.instance_path,
            "DIRECTORY_SECRET_KEY": cfg["SECRET_KEY"],
            "DIRECTORY_SQLALCHEMY_DATABASE_URI": cfg["SQLALCHEMY_DATABASE_URI"],
            "DIRECTORY_INDEX_DIR": cfg["INDEX_DIR"],
            "DIRECTORY_MAIL_DIR": cfg["MAIL_DIR"],
            "DIRECTORY_MEDIA_DIR": cfg["MEDIA_DIR"],
            "DIRECTORY_CANONICAL_URL": cfg["CANONICAL_URL"],
            "PYTHONUNBUFFERED": "1",
        }
    )
    for key, value in extra.items():
        env[key] = value if isinstance(value, str) else json.dumps(value)
    return env


def wait_until(check, timeout: float = 60.0, what: str = "condition", interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Proc:
    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self._fh = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.p = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.p.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, sig)

    def stop(self, timeout: float = 20) -> int | None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(10)
        self._fh.close()
        return self.p.returncode


def gunicorn(app, tmp: Path, workers: int = 2, name: str = "web", **env) -> tuple[Proc, str]:
    port = free_port()
    environ = app_env(app, **env)
    environ["WEB_CONCURRENCY"] = str(workers)
    environ["WEB_THREADS"] = environ.get("WEB_THREADS", "2")
    proc = Proc(
        gunicorn_command(port),
        environ,
        tmp / f"{name}.log",
    )
    base = f"http://127.0.0.1:{port}"
    return proc, base


def wait_http(base: str, proc: Proc | None = None, timeout: float = 90) -> None:
    def up():
        if proc is not None and proc.p.poll() is not None:
            raise AssertionError("process exited:\n" + proc.output()[-3000:])
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:  # noqa: S310
            return r.status == 200

    wait_until(up, timeout, f"{base} to answer")


def worker(app, tmp: Path, name: str = "worker", args=(), **env) -> Proc:
    return Proc(
        [str(BIN / "flask"), "--app", "directory", "worker", *args],
        app_env(app, **env),
        tmp / f"{name}.log",
    )


# --------------------------------------------------------------------------
# A browser-like client (cookies, CSRF token) that can come from any 127.x address.

CSRF_RE = re.compile(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"')


class Client:
    def __init__(self, base: str, source: str = "127.0.0.1"):
        self.host, port = base.split("://", 1)[1].split(":")
        self.port = int(port)
        self.source = source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        conn = http.client.HTTPConnection(
            self.host, self.port, timeout=60, source_address=(self.source, 0)
        )
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        for value in resp.headers.get_all("Set-Cookie") or []:
            k, _, rest = value.partition("=")
            self.cookies[k.strip()] = rest.split(";", 1)[0]
        conn.close()
        return resp.status, resp.headers, data

    def get(self, path: str, headers=None):
        return self.request("GET", path, headers=headers)

    def csrf(self, path: str) -> str:
        _, _, html = self.get(path)
        m = CSRF_RE.search(html.decode())
        assert m, f"no CSRF token on {path}"
        return m.group(1)

    def post(self, path: str, form: dict, headers=None, token_from: str | None = None):
        from urllib.parse import urlencode

        data = dict(form)
        data.setdefault("csrf_token", self.csrf(token_from or path))
        hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, urlencode(data).encode(), hdrs)


_ = http.cookiejar  # (cookies are kept by hand above: source addresses differ per client)


# --------------------------------------------------------------------------
# A reverse proxy like nginx's proxy_pass: appends the peer to X-Forwarded-For.


class ReverseProxy:
    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}

    def __init__(self, upstream: str):
        self.upstream = upstream.split("://", 1)[1]
        self.port = free_port()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in outer.HOP}
                prior = self.headers.get("X-Forwarded-For")
                peer = self.client_address[0]
                headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
                headers["X-Forwarded-Proto"] = "http"
                host, port = outer.upstream.split(":")
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in outer.HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
