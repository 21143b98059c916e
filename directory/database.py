"""Engine set-up: SQLite pragmas and write transactions that begin IMMEDIATE.

With pysqlite's own transaction handling a read-then-write request under
several workers loses updates, and SQLAlchemy's deferred BEGIN gives "database
is locked" on the read-to-write upgrade (docs/security.md). So we take over BEGIN:
requests that may write (anything but GET/HEAD/OPTIONS) and code outside a
request (CLI, tests) begin IMMEDIATE; read-only requests begin DEFERRED and,
under WAL, never block a writer. A GET that must write (a view counter) does
it as one atomic statement on its own connection (see services.counters).
The page cache answers GET and HEAD before Flask, with no request context: it
marks its work `serving_a_read()` so its reads begin DEFERRED as well.
"""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar
from typing import NamedTuple

from flask import Flask, has_request_context, request
from sqlalchemy import event

from directory.extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SERVING_A_READ: ContextVar[bool] = ContextVar("serving_a_read", default=False)


@contextlib.contextmanager
def serving_a_read():
    """Code answering a GET or HEAD outside a request context (pagecache.HitPath):
    its transactions begin as a read-only request's do (DEFERRED). Without this they
    began IMMEDIATE, holding SQLite's write lock while they read: the hit path's
    rebuild of a missing index then waited out the busy timeout on its own lock."""
    token = _SERVING_A_READ.set(True)
    try:
        yield
    finally:
        _SERVING_A_READ.reset(token)


def _read_only() -> bool:
    if _SERVING_A_READ.get():
        return True
    return has_request_context() and request.method in READ_ONLY_METHODS


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
            if _read_only():
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


def read_statement(stmt, params: dict) -> list[dict]:
    """A Core select's rows as dicts, as `session.execute(stmt, params).mappings()`
    gives them, read on a pooled DB-API connection like read_rows: SQLAlchemy
    compiles the statement once per driver and shape (the length of each list of
    values for an IN), with its own bind and result processors, and each call only
    fills in the values. For the public pages' reads (services.pagedata)."""
    engine = db.engine
    shape = tuple(
        sorted((name, len(v) if isinstance(v, list | tuple) else -1) for name, v in params.items())
    )
    prepared = _prepare(stmt, engine.dialect, shape)
    values = dict(prepared.fixed)
    for name, value in params.items():
        items = value if isinstance(value, list | tuple) else (value,)  # a list: its slots
        for (slot, process), item in zip(prepared.binds[name], items, strict=True):
            values[slot] = process(item) if process is not None else item
    args = tuple(values[n] for n in prepared.order) if prepared.order is not None else values
    rows, types = _raw(prepared.sql, args)
    keys, results = prepared.keys, prepared.results
    if not results:  # the result processors ask for the driver's column types once
        results[:] = [
            c.type.dialect_impl(engine.dialect).result_processor(engine.dialect, code)
            for c, code in zip(prepared.columns, types, strict=True)
        ]
    out = []
    for row in rows:
        out.append(
            {
                k: (value if process is None else process(value))
                for k, process, value in zip(keys, results, row, strict=True)
            }
        )
    return out


class _Prepared(NamedTuple):
    sql: str  # in the driver's placeholders
    order: tuple[str, ...] | None  # the parameters' names in order (None: by name)
    fixed: dict  # the values the statement holds itself, processed
    binds: dict  # a caller's parameter -> its [(placeholder name, bind processor)]
    columns: tuple  # the selected columns
    keys: tuple[str, ...]  # their names
    results: list  # each column's result processor (or None), filled by the first read


@functools.lru_cache(maxsize=256)
def _prepare(stmt, dialect, shape: tuple[tuple[str, int], ...]) -> _Prepared:
    compiled = stmt.compile(dialect=dialect)
    # Placeholder values of the caller's shape; the statement's own lists (a status
    # IN (...)) and the caller's are expanded here, once per shape.
    state = compiled.construct_expanded_state(
        {name: [None] * n if n >= 0 else None for name, n in shape}
    )
    processors, expansion = state.processors, state.parameter_expansion
    binds = {}
    for name, n in shape:
        slots = expansion.get(name, []) if n >= 0 else [name]
        binds[name] = [(slot, processors.get(slot) or processors.get(name)) for slot in slots]
    callers = {slot for slots in binds.values() for slot, _ in slots}
    fixed = {
        name: (processors[name](value) if processors.get(name) else value)
        for name, value in state.parameters.items()
        if name not in callers
    }
    columns = list(stmt.selected_columns)
    return _Prepared(
        sql=state.statement,
        order=tuple(state.positiontup) if dialect.positional else None,
        fixed=fixed,
        binds=binds,
        columns=tuple(columns),
        keys=tuple(c.key for c in columns),
        results=[],
    )


def read_rows(sql: str, params: tuple = ()) -> list[tuple]:
    """One read on a pooled DB-API connection, outside the request's session: for the
    few small reads on a page's hot path (page versions, the search outbox), where
    the ORM session's per-statement work costs more than the query. Sees what is
    committed; `{p}` in `sql` is the driver's placeholder."""
    if "{p}" in sql:
        sql = sql.replace("{p}", "?" if db.engine.dialect.paramstyle == "qmark" else "%s")
    return _raw(sql, params)[0]


def _raw(sql: str, params) -> tuple[list[tuple], list]:
    """The rows, and each column's type code from the driver."""
    RAW_STATEMENTS[0] += 1
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall()), [d[1] for d in cur.description or ()]
        finally:
            cur.close()
    finally:
        conn.close()  # back to the pool (rolled back there)
