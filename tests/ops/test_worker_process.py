"""The job worker as a real process (`flask worker`) on the embedded SQLite queue,
with a fake SMTP server on 127.0.0.1 that is down, then up, then stalls while the
worker is killed mid-delivery. `make run` starts web and worker; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import OutgoingMail
from directory.services import mail
from tests.conftest import PG_URI
from tests.ops.fakesmtp import FakeSMTP, free_port
from tests.ops.servers import ROOT, app_env, wait_until


def mail_row(app, address: str) -> OutgoingMail | None:
    with app.app_context():
        row = db.session.execute(
            select(OutgoingMail).where(OutgoingMail.to_addr == address)
        ).scalar_one_or_none()
        if row is not None:
            db.session.expunge(row)
        db.session.rollback()
        return row


def stage(app, address: str) -> None:
    with app.app_context():
        mail.send(address, "Hello", "A message for you.")
        db.session.commit()


@pytest.fixture
def queued(app_factory, tmp_path):
    port = free_port()
    settings = {
        "MAIL_BACKEND": "smtp",
        "SMTP_PORT": port,
        "SMTP_TIMEOUT_S": 30,
        "JOBS_URL": "sqlite:///" + str(tmp_path / "jobs.sqlite3"),
        "MAIL_RETRY_BASE_S": 0.2,
        "MAIL_RETRY_MAX_S": 0.5,
        "MAIL_LEASE_S": 1.5,
        "MAIL_SWEEP_S": 0.3,
    }
    app = app_factory(**settings)
    env = {f"DIRECTORY_{k}": v for k, v in settings.items()}
    workers = []

    def start_worker(name="worker"):
        from tests.ops.servers import BIN, Proc

        proc = Proc(
            [str(BIN / "flask"), "--app", "directory", "worker", "--no-periodic", "--no-search"],
            app_env(app, **env),
            tmp_path / f"{name}.log",
        )
        workers.append(proc)
        return proc

    yield app, port, start_worker
    for proc in workers:
        proc.stop()


def test_worker_retries_until_smtp_is_up_then_survives_a_kill_mid_delivery(queued):
    app, port, start_worker = queued
    worker = start_worker()
    stage(app, "first@example.com")
    # SMTP is down: the worker tries, fails and keeps the mail for later: pending
    # between attempts (one read of the row: it is "sending" while the worker tries
    # again, which a second read could catch).
    wait_until(
        lambda: (
            (r := mail_row(app, "first@example.com"))
            and r.attempts >= 2
            and r.last_error
            and r.status == "pending"
        ),
        60,
        "failed attempts while SMTP is down, the mail kept pending",
    )

    server = FakeSMTP(port).start()
    try:
        wait_until(lambda: server.to("first@example.com"), 60, "delivery once SMTP is up")
        wait_until(lambda: mail_row(app, "first@example.com").status == "sent", 30, "sent mark")

        # Now the server holds its answer to DATA; the worker is killed meanwhile.
        server.stall.set()
        stage(app, "second@example.com")
        wait_until(server.stalled.is_set, 60, "the worker mid-delivery")
        worker.kill(signal.SIGKILL)
        worker.p.wait(10)
        assert mail_row(app, "second@example.com").status == "sending"
        assert server.to("second@example.com") == []
        server.stall.clear()

        start_worker("worker2")
        wait_until(lambda: server.to("second@example.com"), 60, "delivery after the restart")
        wait_until(lambda: mail_row(app, "second@example.com").status == "sent", 30, "sent mark")
        ids = server.message_ids()
        assert len(ids) == len(set(ids)) == 2  # nothing lost, nothing twice
    finally:
        server.stop()


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in env:
            found.append(int(pid))
    return found


@pytest.mark.skipif(bool(PG_URI), reason="make run uses the embedded default")
def test_make_run_starts_web_and_worker_and_ctrl_c_stops_both(tmp_path):
    from tests.ops.servers import free_port as port_for

    port = port_for()
    inst = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORY_")}
    env.update(
        DIRECTORY_INSTANCE_PATH=str(inst),
        DIRECTORY_SECRET_KEY="make-run-test-secret-key-0123456789abcdef",
        DIRECTORY_MAIL_SWEEP_S="0.3",
        MAKE_RUN_TEST_MARKER=str(tmp_path),
    )
    log = open(tmp_path / "make.log", "wb")  # noqa: SIM115
    make = subprocess.Popen(
        ["make", "run", f"PORT={port}", "SEED_ARGS=--clinics 4 --no-images", "WEB_CONCURRENCY=1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def up():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                return r.status == 200

        wait_until(up, 240, "make run to serve")
        procs = _processes_with(str(tmp_path))
        cmdlines = [Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ") for p in procs]
        assert any(b"gunicorn" in c for c in cmdlines), cmdlines
        assert any(b" worker" in c for c in cmdlines), cmdlines
        # Ctrl-C in the terminal: SIGINT to the whole foreground process group.
        os.killpg(make.pid, signal.SIGINT)
        make.wait(60)
        wait_until(lambda: _processes_with(str(tmp_path)) == [], 30, "every process to stop")
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()
