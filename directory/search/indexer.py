"""Keeping the Whoosh index in step with the database (docs/architecture.md, "Search index
in step with the database").

- `try_drain()` runs after every commit: it takes the writer without waiting,
  rebuilds each dirty clinic's document from the current rows (or deletes it),
  commits the index and only then moves this index's cursor past the rows it
  read. The outbox is a log shared by every web node: rows are not deleted by a
  drain, each node's index keeps its own cursor (the file `outbox.cursor`
  inside the index version directory, so a rebuild's swap replaces index and
  cursor together). `prune_outbox()` deletes rows past their retention.
- `rebuild()` writes every public clinic into a fresh directory and swaps it in
  by renaming a symlink, so readers never see a half-built index.
- `check()` compares the index with the database.

The index directory (INDEX_DIR) is a symlink to `<INDEX_DIR>.versions/<stamp>`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.util.filelock import try_for

from directory.database import read_rows
from directory.extensions import db
from directory.models import Clinic, SearchOutbox
from directory.vocab import PUBLIC_CLINIC_STATUSES

from .documents import document, load_parts
from .schema import build_schema

log = logging.getLogger("directory.search")

DRAIN_BATCH = 500
DRAIN_ROUNDS = 20
BUILD_CHUNK = 1000
# Outbox ids come from a sequence: on PostgreSQL a transaction can take id 10,
# another id 11 and commit first. A drain that sees 11 but not 10 applies 11
# and keeps its cursor before the gap until 10 appears, or until the row after
# the gap is older than this (the transaction holding 10 then rolled back).
GAP_GRACE_S = 30.0
CURSOR_FILE = "outbox.cursor"


class Unavailable(RuntimeError):
    """The index is missing, corrupt or being rebuilt."""


# --------------------------------------------------------------------------
# Opening the index: one Index and one searcher per process and directory.


@dataclass
class _Open:
    real: str
    ix: whoosh_index.Index
    searcher: object
    generation: int = 0


_open: dict[str, _Open] = {}
_open_lock = threading.RLock()


def versions_dir(index_dir: str) -> str:
    return index_dir.rstrip(os.sep) + ".versions"


def exists(index_dir: str) -> bool:
    try:
        return whoosh_index.exists_in(index_dir)
    except Exception:  # noqa: BLE001 - a broken directory is "not there"
        return False


def _open_index(index_dir: str) -> _Open:
    real = os.path.realpath(index_dir)
    try:
        ix = whoosh_index.open_dir(index_dir)
        searcher = ix.searcher()
    except Exception as exc:  # noqa: BLE001 - missing, truncated TOC, unreadable files ...
        raise Unavailable(f"search index at {index_dir} cannot be opened: {exc!r}") from exc
    return _Open(real, ix, searcher)


def current(index_dir: str) -> _Open:
    """The process's open index, refreshed to the latest commit
    (docs/performance.md, Whoosh note 1).

    Raises Unavailable when the index cannot be opened.
    """
    with _open_lock:
        st = _open.get(index_dir)
        real = os.path.realpath(index_dir)
        if st is not None and st.real == real:
            try:
                fresh = _refresh(st)
            except Exception as exc:  # noqa: BLE001 - files vanished or were damaged
                forget(index_dir)
                raise Unavailable(f"search index at {index_dir} is unreadable: {exc!r}") from exc
            if fresh is not st.searcher:
                st.searcher = fresh
                st.generation += 1
            return st
        if st is not None:
            forget(index_dir)
        st = _open_index(index_dir)
        _open[index_dir] = st
        return st


def _refresh(st: _Open):
    """The searcher itself while the index is unchanged (a cheap check per request);
    a new searcher after a commit. Whoosh's own refresh() reuses segment readers
    and so misses deletions made by update_document in later commits (and fails
    on an empty index), so a changed index is opened anew."""
    if st.searcher.up_to_date():
        return st.searcher
    fresh = st.ix.searcher()
    _retire(st.searcher)
    return fresh


# A replaced searcher may still be in use by another thread of this worker (gunicorn
# threads share the process's handle): closing it at once made that thread's search
# fail with ReaderClosed. Retired searchers are closed once no search can still hold
# them (a search is bounded by SEARCH_TIME_LIMIT_S; a request by the worker timeout).
RETIRED_CLOSE_AFTER_S = 60.0
RETIRED_MAX = 256
_retired: list[tuple[float, object]] = []


def _retire(searcher) -> None:
    """Called under _open_lock."""
    now = time.monotonic()
    _retired.append((now, searcher))
    while _retired and (
        now - _retired[0][0] > RETIRED_CLOSE_AFTER_S or len(_retired) > RETIRED_MAX
    ):
        _, old = _retired.pop(0)
        with contextlib.suppress(Exception):
            old.close()


def forget(index_dir: str) -> None:
    """Drop the process's handle on an index (after a failure or a swap)."""
    with _open_lock:
        st = _open.pop(index_dir, None)
        if st is not None:
            with contextlib.suppress(Exception):
                st.searcher.close()


# --------------------------------------------------------------------------
# Outbox drain.


def _session() -> Session:
    return Session(db.engine, expire_on_commit=False)


# Plain reads go through the caller's session (no second transaction, so no
# lock wait behind the caller's own open write transaction).


def _dir(index_dir: str | None) -> str:
    return index_dir or current_app.config["INDEX_DIR"]


def read_cursor(index_dir: str, real: str | None = None) -> int:
    """The last outbox id this index has applied (0 when unknown: replay is harmless)."""
    try:
        with open(os.path.join(real or os.path.realpath(index_dir), CURSOR_FILE)) as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def write_cursor(index_dir: str, value: int, real: str | None = None) -> None:
    folder = real or os.path.realpath(index_dir)
    path = os.path.join(folder, CURSOR_FILE)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(str(int(value)))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# Per process: the highest row this process applied to an index version beyond
# its cursor (while the cursor waits behind a gap), so looks stay cheap.
_applied_beyond: dict[str, int] = {}


def pending_count(index_dir: str | None = None) -> int:
    """Outbox rows this node's index has not applied."""
    cursor = read_cursor(_dir(index_dir))
    return db.session.execute(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.id > cursor)
    ).scalar_one()


def _floor(index_dir: str) -> int:
    real = os.path.realpath(index_dir)
    return max(read_cursor(index_dir, real), _applied_beyond.get(real, 0))


def applied_through(index_dir: str | None = None) -> int:
    """The outbox id up to which this node's index has applied every row: rows
    past it are pending here."""
    return _floor(_dir(index_dir))


_PENDING_SQL = f"SELECT 1 FROM {SearchOutbox.__tablename__} WHERE id > {{p}} LIMIT 1"  # noqa: S608


def has_pending(index_dir: str | None = None) -> bool:
    """Whether committed outbox rows are waiting for this node's index. Asked before
    every search, so on a raw connection (database.read_rows): what is committed."""
    return bool(read_rows(_PENDING_SQL, (_floor(_dir(index_dir)),)))


def lag(index_dir: str | None = None) -> tuple[int, float]:
    """(rows not applied, age in seconds of the oldest) for this node's index."""
    index_dir = _dir(index_dir)
    cursor = read_cursor(index_dir)
    n, oldest = db.session.execute(
        select(func.count(), func.min(SearchOutbox.created_at)).where(SearchOutbox.id > cursor)
    ).one()
    if not n or oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    from datetime import UTC, datetime

    return int(n), max(0.0, (datetime.now(UTC) - oldest).total_seconds())


def _advance(cursor: int, rows, now) -> int:
    """The new cursor after applying rows (sorted by id): up to the first gap
    that may still be filled by a transaction in flight."""
    from datetime import UTC, timedelta

    for row_id, _cid, created in rows:
        if row_id != cursor + 1:
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            if created is None or now - created < timedelta(seconds=GAP_GRACE_S):
                break
        cursor = row_id
    return cursor


def try_drain(index_dir: str, wait_s: float = 0.0, rounds: int = DRAIN_ROUNDS) -> int:
    """Apply outbox rows past this index's cursor; returns how many rows were applied.

    Takes the writer without waiting (or up to wait_s); when another process
    holds it, returns and leaves the rows for it or the next drain. Raises
    only for unexpected errors (callers on the request path use after_commit,
    which logs instead).
    """
    from datetime import UTC, datetime

    applied = 0
    for _ in range(rounds):
        if not exists(index_dir):
            # Never built: the first search or `search rebuild` builds it from
            # the database, which includes these changes.
            return applied
        # Look (cheaply) before taking the writer; re-looking after each round
        # catches rows whose drains gave up while this process held the lock.
        floor = _floor(index_dir)
        with _session() as s:
            newest = s.execute(select(func.max(SearchOutbox.id))).scalar()
            s.rollback()
        if newest is None or newest <= read_cursor(index_dir):
            return applied
        if newest <= floor and not _gap_may_close(index_dir):
            return applied
        try:
            ix = current(index_dir).ix
        except Unavailable:
            log.warning("search outbox not drained: the index cannot be opened")
            return applied
        try:
            writer = ix.writer(timeout=wait_s) if wait_s else ix.writer()
        except LockError:
            return applied
        real = os.path.realpath(index_dir)
        try:
            # Under the writer lock the cursor cannot move under us.
            cursor = read_cursor(index_dir)
            with _session() as s:
                rows = s.execute(_outbox_after(cursor, DRAIN_BATCH)).all()
                ids = sorted({cid for _, cid, _ in rows})
                _write_clinics(s, writer, ids)
                s.rollback()
            writer.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise
        # The index holds the changes; only now may the cursor move (a crash
        # before this line replays the rows, which is harmless).
        new_cursor = _advance(cursor, rows, datetime.now(UTC))
        if new_cursor != cursor:
            write_cursor(index_dir, new_cursor, real)
        if rows:
            _applied_beyond[real] = max(_applied_beyond.get(real, 0), rows[-1][0])
        applied += len(rows)
        if new_cursor != (rows[-1][0] if rows else cursor):
            return applied  # waiting behind a gap: the next drain goes on
    return applied


def _outbox_after(cursor: int, limit: int):
    """The next outbox rows (id, clinic id, time) after the cursor, oldest first."""
    return (
        select(SearchOutbox.id, SearchOutbox.clinic_id, SearchOutbox.created_at)
        .where(SearchOutbox.id > cursor)
        .order_by(SearchOutbox.id)
        .limit(limit)
    )


def _gap_may_close(index_dir: str) -> bool:
    """True when the cursor waits behind a gap old enough to step over."""
    from datetime import UTC, datetime

    cursor = read_cursor(index_dir)
    with _session() as s:
        row = s.execute(_outbox_after(cursor, 1)).first()
        s.rollback()
    if row is None:
        return False
    return _advance(cursor, [row], datetime.now(UTC)) != cursor


def prune_outbox(retention_s: float | None = None) -> int:
    """Delete outbox rows older than SEARCH_OUTBOX_RETENTION_S (every node has long
    applied them; a node offline for longer rebuilds its index)."""
    from datetime import UTC, datetime, timedelta

    keep = float(
        retention_s
        if retention_s is not None
        else current_app.config.get("SEARCH_OUTBOX_RETENTION_S", 7 * 24 * 3600)
    )
    cutoff = datetime.now(UTC) - timedelta(seconds=keep)
    return db.session.execute(delete(SearchOutbox).where(SearchOutbox.created_at < cutoff)).rowcount


def _write_clinics(session: Session, writer, clinic_ids: list[int]) -> None:
    clinics = (
        {
            c.id: c
            for c in session.execute(select(Clinic).where(Clinic.id.in_(clinic_ids))).scalars()
        }
        if clinic_ids
        else {}
    )
    public = [
        cid
        for cid in clinic_ids
        if cid in clinics and clinics[cid].status in PUBLIC_CLINIC_STATUSES
    ]
    parts = load_parts(session, public)
    for cid in clinic_ids:
        if cid in parts:
            writer.update_document(**document(clinics[cid], parts[cid]))
        else:
            writer.delete_by_term("id", str(cid))


# --------------------------------------------------------------------------
# Rebuild into a fresh directory, then swap.


@contextlib.contextmanager
def _rebuild_lock(index_dir: str, wait: bool) -> Iterator[bool]:
    parent = os.path.dirname(os.path.abspath(index_dir)) or "."
    os.makedirs(parent, exist_ok=True)
    path = index_dir.rstrip(os.sep) + ".rebuild.lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def rebuild(index_dir: str, wait: bool = True, echo: Callable[[str], None] | None = None) -> int:
    """Index every public clinic into a fresh directory and swap it in atomically.

    Returns the number of documents. While it runs, drains cannot take the old
    index's writer, so changes committed meanwhile stay in the outbox and are
    applied to the new index right after the swap. Returns -1 when another
    rebuild is running and wait is False.
    """
    echo = echo or (lambda _msg: None)
    with _rebuild_lock(index_dir, wait) as got:
        if not got:
            return -1
        old_lock = None
        if exists(index_dir):
            # Hold the old index's writer lock: drains meanwhile leave their rows.
            with contextlib.suppress(Exception):
                lock = whoosh_index.open_dir(index_dir).lock("WRITELOCK")
                if try_for(lock.acquire, timeout=60.0, delay=0.05):
                    old_lock = lock
        try:
            with _session() as s:
                # Changes committed before this point are in the rows read below;
                # outbox rows up to here are therefore covered by the rebuild.
                upto = s.execute(select(func.max(SearchOutbox.id))).scalar()
                s.rollback()
            started = time.perf_counter()
            new_dir = _new_version_dir(index_dir)
            try:
                count = _build_into(new_dir, echo)
                write_cursor(index_dir, upto or 0, new_dir)
                _swap(index_dir, new_dir)
            except BaseException:
                shutil.rmtree(new_dir, ignore_errors=True)
                raise
            echo(f"Indexed {count} clinics in {time.perf_counter() - started:.1f} s.")
        finally:
            if old_lock is not None:
                with contextlib.suppress(Exception):
                    old_lock.release()
        forget(index_dir)
        _remove_old_versions(index_dir)
    try_drain(index_dir, wait_s=5.0)
    return count


def _new_version_dir(index_dir: str) -> str:
    base = versions_dir(index_dir)
    os.makedirs(base, exist_ok=True)
    path = os.path.join(base, f"{time.time_ns()}-{os.getpid()}")
    os.makedirs(path)
    return path


def _build_into(path: str, echo: Callable[[str], None]) -> int:
    ix = whoosh_index.create_in(path, build_schema())
    with _session() as s:
        total = s.execute(
            select(func.count())
            .select_from(Clinic)
            .where(Clinic.status.in_(PUBLIC_CLINIC_STATUSES))
        ).scalar_one()
        s.rollback()
    big = total > 5000
    # docs/performance.md, Whoosh note 8: enough memory that postings are sorted without spilling.
    writer = ix.writer(procs=2 if big else 1, multisegment=big, limitmb=384)
    count = 0
    last_id = 0
    try:
        while True:
            with _session() as s:
                clinics = list(
                    s.execute(
                        select(Clinic)
                        .where(Clinic.status.in_(PUBLIC_CLINIC_STATUSES), Clinic.id > last_id)
                        .order_by(Clinic.id)
                        .limit(BUILD_CHUNK)
                    ).scalars()
                )
                if not clinics:
                    s.rollback()
                    break
                parts = load_parts(s, [c.id for c in clinics])
                docs = [document(c, parts[c.id]) for c in clinics]
                last_id = clinics[-1].id
                s.rollback()
            for doc in docs:
                writer.add_document(**doc)
            count += len(docs)
            if big:
                echo(f"  {count}/{total} clinics")
        writer.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            writer.cancel()
        raise
    return count


def _swap(index_dir: str, new_dir: str) -> None:
    """Point index_dir at new_dir with one rename (atomic for readers)."""
    index_dir = index_dir.rstrip(os.sep)
    tmp = f"{index_dir}.swap-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(os.path.relpath(new_dir, os.path.dirname(os.path.abspath(index_dir))), tmp)
    if os.path.isdir(index_dir) and not os.path.islink(index_dir):
        # An index from before versioned directories: move it aside first.
        aside = f"{index_dir}.old-{time.time_ns()}"
        os.rename(index_dir, aside)
        os.replace(tmp, index_dir)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(tmp, index_dir)


def _remove_old_versions(index_dir: str) -> None:
    base = versions_dir(index_dir)
    keep = os.path.realpath(index_dir)
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(base):
            path = os.path.join(base, name)
            if os.path.realpath(path) != keep:
                # Processes still reading the old files keep them open until
                # their next refresh notices the new target.
                shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------
# Check.


@dataclass
class Drift:
    missing: list[int]  # public in the database, absent from the index
    extra: list[int]  # in the index, not public in the database
    pending: int  # outbox rows not yet applied

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra


def indexed_ids(index_dir: str) -> set[int]:
    ix = whoosh_index.open_dir(index_dir)
    with ix.searcher() as searcher:
        return {int(f["id"]) for f in searcher.reader().all_stored_fields()}


def public_ids() -> set[int]:
    return set(
        db.session.execute(
            select(Clinic.id).where(Clinic.status.in_(PUBLIC_CLINIC_STATUSES))
        ).scalars()
    )


def check(index_dir: str) -> Drift:
    """Compare the index with the database. Raises Unavailable when it cannot be opened."""
    try:
        in_index = indexed_ids(index_dir)
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"search index at {index_dir} cannot be opened: {exc!r}") from exc
    in_db = public_ids()
    return Drift(sorted(in_db - in_index), sorted(in_index - in_db), pending_count(index_dir))


# --------------------------------------------------------------------------
# Repair at first use.

_repairing: set[str] = set()


def repair_in_background(app, index_dir: str) -> None:
    """Rebuild a missing or corrupt index in a thread (one per process)."""
    with _open_lock:
        if index_dir in _repairing:
            return
        _repairing.add(index_dir)

    def run():
        try:
            with app.app_context():
                rebuild(index_dir, wait=False)
        except Exception:  # noqa: BLE001 - logged; search stays unavailable
            log.exception("rebuilding the search index failed")
        finally:
            with _open_lock:
                _repairing.discard(index_dir)

    threading.Thread(target=run, name="search-rebuild", daemon=True).start()
