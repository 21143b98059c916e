"""Background jobs on Huey (https://huey.readthedocs.io).

The queue lives where JOBS_URL says:

- ``sqlite:///path`` (the embedded default: instance/jobs.sqlite3),
- ``redis://host:port/db`` (production with several nodes),
- ``immediate`` (tests: a job runs inline when enqueued).

`flask worker` (directory/cli.py) runs the consumer: job threads, Huey's
scheduler for the periodic jobs below, and a ticker thread that drains this
node's search outbox and sweeps the mail table every MAIL_SWEEP_S (so mail
whose job was lost, or whose worker was killed mid-delivery, still goes out).

Jobs hold only ids; each runs in an application context and reads the
current rows, so a job that runs twice does no harm.
"""

from __future__ import annotations

import logging
import os

from flask import Flask
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger("directory.jobs")

# Storage is replaced by init_app(); tasks are registered at import time.
huey = Huey("directory", results=False, storage_class=MemoryStorage)
_app: Flask | None = None


def storage_url(app: Flask) -> str:
    url = app.config.get("JOBS_URL")
    if url:
        return str(url)
    return "sqlite:///" + os.path.join(app.instance_path, "jobs.sqlite3")


def init_app(app: Flask) -> None:
    """Point the queue at JOBS_URL. One application per process owns the queue."""
    global _app
    _app = app
    url = storage_url(app)
    if url == "immediate":
        huey.immediate_use_memory = True
        huey._immediate = True
        huey.storage = MemoryStorage("directory")
    elif url.startswith("sqlite:///"):
        huey._immediate = False
        huey.storage = SqliteStorage("directory", filename=url[len("sqlite:///") :], timeout=30)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        huey._immediate = False
        huey.storage = RedisStorage("directory", url=url)
    else:
        raise ValueError(f"JOBS_URL {url!r}: use sqlite:///path, redis://host:port/db or immediate")


def _in_app(fn, *args):
    if _app is None:
        raise RuntimeError("directory.jobs.init_app() was not called")
    with _app.app_context():
        return fn(*args)


def depth() -> int | None:
    """Jobs waiting in the queue (None when the queue cannot be read)."""
    try:
        return int(huey.pending_count())
    except Exception:  # noqa: BLE001 - reported as unknown by /healthz
        return None


# --------------------------------------------------------------------------
# Jobs.


@huey.task(name="deliver_mail")
def deliver_mail(mail_id: int) -> None:
    def run():
        from directory import mailer

        delay = mailer.deliver(mail_id)
        # Inline (immediate) jobs leave retries to the sweep instead of recursing.
        if delay is not None and not huey.immediate:
            deliver_mail.schedule(args=(mail_id,), delay=delay)

    _in_app(run)


@huey.periodic_task(crontab(hour="3", minute="17"), name="recompute_scores")
def recompute_scores() -> None:
    """Testimonials age: scores change with time alone, so recompute daily."""

    def run():
        from directory import services
        from directory.services import scores

        n = scores.recompute_all()
        services.commit()
        log.info("recomputed %s clinic scores", n)

    _in_app(run)


@huey.periodic_task(crontab(minute="*/30"), name="refresh_queue_risk")
def refresh_queue_risk() -> None:
    """Signals that change with later events (a decision on a linked item, a new
    link between accounts): recompute what waits and was computed 30+ min ago."""

    def run():
        from datetime import timedelta

        from directory import services
        from directory.services import risk

        n = risk.refresh_waiting(timedelta(minutes=30))
        services.commit()
        log.info("recomputed the signals of %s waiting items", n)

    _in_app(run)


@huey.periodic_task(crontab(hour="9", minute="5"), name="send_reminders")
def send_reminders() -> None:
    def run():
        from directory import reminders

        n = reminders.send_due()
        log.info("staged %s reminder mails", n)

    _in_app(run)


@huey.periodic_task(crontab(hour="4", minute="41"), name="prune")
def prune() -> None:
    """Forget delivered mail and applied search outbox rows after their retention."""

    def run():
        from directory import ops

        ops.prune()

    _in_app(run)


def sweep_mail() -> int:
    """Enqueue every mail that is due (run by the worker's ticker)."""
    from directory import mailer

    ids = mailer.due_ids()
    for mail_id in ids:
        deliver_mail(mail_id)
    return len(ids)
