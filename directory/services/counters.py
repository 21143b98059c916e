"""Counters written from read-only requests, as single atomic statements.

A GET runs in a deferred (read) transaction; a profile view must still be
counted, so it is an INSERT ... ON CONFLICT DO UPDATE on a connection of its
own, which neither upgrades the request's transaction nor loses concurrent
increments. Nothing about the visitor is kept.

The clinic page calls `record_view`: views are added up in the worker and
written in one transaction every VIEW_COUNT_FLUSH_S seconds (and when the
process exits), so a burst of visitors costs one write, not one per page.
The owner's dashboard may lag by that much; a crashed worker loses at most
that many seconds of views.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime

from flask import current_app

from directory.extensions import db
from directory.models import ClinicViewDay

log = logging.getLogger(__name__)


def _upsert(dialect_name: str):
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _add(conn, clinic_id: int, day: date, n: int) -> None:
    table = ClinicViewDay.__table__
    insert = _upsert(conn.dialect.name)
    stmt = insert(table).values(clinic_id=clinic_id, day=day, views=n)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.clinic_id, table.c.day],
        set_={"views": table.c.views + n},
    )
    conn.execute(stmt)


def count_view(clinic_id: int, day: date | None = None, n: int = 1) -> None:
    """Add views to the clinic's row for the day now. Never raises: a counter
    must not fail the page it counts."""
    day = day or datetime.now(UTC).date()
    try:
        with db.engine.begin() as conn:
            _add(conn, clinic_id, day, n)
    except Exception:  # noqa: BLE001 - counting is best effort
        log.exception("could not count a view of clinic %s", clinic_id)


class _Buffer:
    """Views not yet written, per database engine (one per app in a process)."""

    def __init__(self, engine):
        self.engine = engine
        self.counts: Counter[tuple[int, date]] = Counter()
        self.lock = threading.Lock()
        self.last = time.monotonic()

    def flush(self) -> None:
        with self.lock:
            counts, self.counts = self.counts, Counter()
            self.last = time.monotonic()
        if not counts:
            return
        try:
            with self.engine.begin() as conn:
                for (clinic_id, day), n in counts.items():
                    _add(conn, clinic_id, day, n)
        except Exception:  # noqa: BLE001 - e.g. a clinic deleted meanwhile: row by row
            for (clinic_id, day), n in counts.items():
                try:
                    with self.engine.begin() as conn:
                        _add(conn, clinic_id, day, n)
                except Exception:  # noqa: BLE001
                    log.warning("could not count %s views of clinic %s", n, clinic_id)


_BUFFERS: dict[int, _Buffer] = {}


def record_view(clinic_id: int) -> None:
    """Count a profile view, written with others within VIEW_COUNT_FLUSH_S seconds."""
    every = float(current_app.config.get("VIEW_COUNT_FLUSH_S", 5.0))
    if every <= 0:
        count_view(clinic_id)
        return
    engine = db.engine
    buf = _BUFFERS.get(id(engine))
    if buf is None or buf.engine is not engine:
        buf = _BUFFERS[id(engine)] = _Buffer(engine)
    with buf.lock:
        buf.counts[(clinic_id, datetime.now(UTC).date())] += 1
        due = time.monotonic() - buf.last >= every
    if due:
        buf.flush()


def flush_views() -> None:
    """Write every buffered view now (the dashboard, tests, process exit)."""
    for buf in list(_BUFFERS.values()):
        buf.flush()


atexit.register(flush_views)
