"""Counters written from read-only requests, as single atomic statements.

A GET runs in a deferred (read) transaction; a profile view must still be
counted, so it is one INSERT ... ON CONFLICT DO UPDATE on a connection of its
own, which neither upgrades the request's transaction nor loses concurrent
increments (SECURITY.md, "Measured facts"). Nothing about the visitor is kept.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from directory.extensions import db
from directory.models import ClinicViewDay

log = logging.getLogger(__name__)


def _upsert(dialect_name: str):
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def count_view(clinic_id: int, day: date | None = None) -> None:
    """Add one view to the clinic's row for the day. Never raises: a counter
    must not fail the page it counts."""
    day = day or datetime.now(UTC).date()
    try:
        table = ClinicViewDay.__table__
        with db.engine.begin() as conn:
            insert = _upsert(conn.dialect.name)
            stmt = insert(table).values(clinic_id=clinic_id, day=day, views=1)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.clinic_id, table.c.day],
                set_={"views": table.c.views + 1},
            )
            conn.execute(stmt)
    except Exception:  # noqa: BLE001 - counting is best effort
        log.exception("could not count a view of clinic %s", clinic_id)
