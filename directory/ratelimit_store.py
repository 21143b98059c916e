"""A rate-limit store in one SQLite file, shared by every worker process.

Registered with the `limits` library under the ``sqlite:///`` scheme, so
RATELIMIT_STORAGE_URI = "sqlite:////abs/path/ratelimits.sqlite3" works like
memory:// or redis://. Each hit is one atomic upsert (SQLite serialises
writers), so with several gunicorn workers a "5/minute" limit still gives the
sixth try its 429, never the tenth. Fixed windows only (Flask-Limiter's default
strategy). Production with several nodes uses redis:// instead.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time

from limits.storage import Storage


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = (uri or "").split("://", 1)[-1]
        # sqlite:////abs/file (absolute) or sqlite:///relative/file, as SQLAlchemy writes it.
        self.path = path[1:] if path.startswith("/") else path
        self._local = threading.local()

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            parent = os.path.dirname(self.path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            # Autocommit: every statement below is its own atomic transaction.
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS counters ("
                "key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        conn = self._conn()
        (count,) = conn.execute(
            "INSERT INTO counters (key, count, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN counters.expires <= ? THEN excluded.count "
            "ELSE counters.count + excluded.count END, "
            "expires = CASE WHEN counters.expires <= ? THEN excluded.expires "
            "ELSE counters.expires END "
            "RETURNING count",
            (key, amount, now + expiry, now, now),
        ).fetchone()
        if random.random() < 0.01:
            conn.execute("DELETE FROM counters WHERE expires <= ?", (now,))
        return int(count)

    def get(self, key: str) -> int:
        row = (
            self._conn()
            .execute("SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._conn().execute("SELECT expires FROM counters WHERE key = ?", (key,)).fetchone()
        now = time.time()
        return float(row[0]) if row and row[0] > now else now

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM counters WHERE key = ?", (key,))
