"""Engine set-up: SQLite pragmas and write transactions that begin IMMEDIATE.

With pysqlite's own transaction handling a read-then-write request under
several workers loses updates, and SQLAlchemy's deferred BEGIN gives "database
is locked" on the read-to-write upgrade (docs/security.md). So we take over BEGIN:
requests that may write (anything but GET/HEAD/OPTIONS) and code outside a
request (CLI, tests) begin IMMEDIATE; read-only requests begin DEFERRED and,
under WAL, never block a writer. A GET that must write (a view counter) does
it as one atomic statement on its own connection (see services.counters).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event

from directory.extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return
        busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # Let SQLAlchemy's "begin" event below emit BEGIN itself.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            if has_request_context() and request.method in READ_ONLY_METHODS:
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")


def listen_on_session(hooks: dict) -> None:
    """Listen to the application session's events ({event name: handler}), once per
    process however many apps are created (services.mail and services.risk)."""
    for name, handler in hooks.items():
        if not event.contains(db.session, name, handler):
            event.listen(db.session, name, handler)


# Statements run by read_rows (the benchmarks and the query-count budgets add them in).
RAW_STATEMENTS = [0]


def read_rows(sql: str, params: tuple = ()) -> list[tuple]:
    """One read on a pooled DB-API connection, outside the request's session: for the
    few small reads on a page's hot path (page versions, the search outbox), where
    the ORM session's per-statement work costs more than the query. Sees what is
    committed; `{p}` in `sql` is the driver's placeholder."""
    engine = db.engine
    RAW_STATEMENTS[0] += 1
    if "{p}" in sql:
        sql = sql.replace("{p}", "?" if engine.dialect.paramstyle == "qmark" else "%s")
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall())
        finally:
            cur.close()
    finally:
        conn.close()  # back to the pool (rolled back there)
