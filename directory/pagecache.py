"""Rendered public pages for anonymous visitors, correct by construction.

A cached page is found under a key made of what the page shows:

- the clinic pages (profile, testimonials, results) under the clinic's *version*;
- the home and search pages under the *listings* version (and, when the page
  comes from the search index, the index generation);
- every page under the *epoch*, for changes that cannot be traced to one clinic;

plus the build (templates and code), the host and the exact path and query
string. A version is a random token in the `page_versions` table, replaced by
SQLAlchemy session events in the same transaction as the change itself: any
insert, update or delete of a row a public page shows (a clinic, practitioner,
testimonial, follow-up, reply, photo, result case, report count or author name)
writes a new token for its clinic and for the listings. No service has to
remember to invalidate anything, a rolled-back change leaves the versions as
they were, and a committed one changes the key of every page that shows it:
the next request renders afresh. Old entries are never served again and expire.

The key is read before the page, so a page is never stored under a key newer
than its data. The store is shared by all workers (`PAGE_CACHE_URL`: a SQLite
file under the instance folder by default, or `redis://...`), with a small
per-process copy in front (safe: a key never changes meaning). The ETag is the
key, so a browser's revalidation costs one small query and a 304.

Only anonymous visitors are served from the cache: a request with a session
or remember cookie that belongs to a user, or with flashed messages waiting,
is rendered as usual and marked private. Every response's policy has a fresh
CSP nonce; a page that holds its nonce is never stored (the cached pages' only
scripts are JSON-LD, which needs none), so a stored page is the same bytes for
every visitor.

A hit is answered before Flask by `HitPath` (a WSGI layer) for the views marked
`cacheable`: the same key, bytes and headers without a request context.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import Flask, Response, current_app, g, make_response, request, session
from flask_login import current_user
from sqlalchemy import TextClause, event, inspect, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from directory.application import new_request_ids, security_headers
from directory.database import read_rows, serving_a_read
from directory.extensions import db
from directory.models import (
    Appeal,
    Clinic,
    ClinicChange,
    ClinicClaim,
    ClinicReply,
    ClinicScoreMonth,
    ClinicViewDay,
    FollowUp,
    ModerationDecision,
    OriginEvent,
    OutgoingMail,
    PageVersion,
    Photo,
    Practitioner,
    QueueHold,
    QueueRisk,
    ReminderSent,
    Report,
    ResultCase,
    Review,
    SearchOutbox,
    SimilarityMatch,
    TextBand,
    User,
)
from directory.services.casescores import SESSION_KEY as CASE_SESSION_KEY
from directory.vocab import PUBLIC_CLINIC_STATUSES

log = logging.getLogger(__name__)

EPOCH = -1
LISTINGS = 0

# Rows no public page shows: writing them never changes a cached page.
NOT_SHOWN = (
    OutgoingMail,
    ReminderSent,
    Appeal,
    ClinicChange,
    ClinicClaim,
    ClinicScoreMonth,
    ClinicViewDay,
    ModerationDecision,
    OriginEvent,
    OutgoingMail,
    PageVersion,
    QueueHold,
    QueueRisk,
    SearchOutbox,
    SimilarityMatch,
    TextBand,
)
# Rows public pages show, and how each maps to its clinic (see scopes_for).
SHOWN = (Clinic, ClinicReply, FollowUp, Photo, Practitioner, Report, ResultCase, Review, User)
# User columns public pages show (the author's name on testimonials and replies).
USER_SHOWN = ("display_name",)

_PENDING = "pagecache.pending"
_TO_WRITE = "pagecache.to_write"


# --------------------------------------------------------------------------
# Versions: written with the change, read before the page


def touch_all(session_: Session | None = None) -> None:
    """New versions for every page (a bulk change nobody can trace to a clinic)."""
    _write(session_ or db.session(), {EPOCH, LISTINGS})


def _write(sess: Session, scopes: set[int]) -> None:
    """Queue scopes for renewal; they are written once, just before the commit."""
    sess.info.setdefault(_TO_WRITE, set()).update(scopes)


@event.listens_for(Session, "before_commit")
def _before_commit(sess):
    # All of a transaction's versions are written in one statement at its end, in
    # scope order: every writer takes the rows' locks in the same order, so two
    # concurrent transactions never deadlock on them (PostgreSQL did when each
    # flush wrote its own scopes).
    if sess.in_nested_transaction():
        return  # a savepoint: the outer commit writes
    sess.flush()  # the last changes' scopes join the queue
    scopes = sess.info.pop(_TO_WRITE, None)
    if scopes:
        _store(sess, scopes)


def _store(sess: Session, todo: set[int]) -> None:
    rows = [{"scope": s, "version": secrets.randbits(62)} for s in sorted(todo)]
    conn = sess.connection()
    table = PageVersion.__table__
    if conn.dialect.name in ("sqlite", "postgresql"):
        if conn.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table).values(rows)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.scope], set_={"version": stmt.excluded.version}
            )
        )
    else:  # pragma: no cover - the site runs on SQLite or PostgreSQL
        for row in rows:
            done = conn.execute(
                table.update().where(table.c.scope == row["scope"]).values(version=row["version"])
            )
            if not done.rowcount:
                conn.execute(table.insert().values(**row))


def _clinic_of_review(sess: Session, review_id: int | None) -> set[int]:
    if review_id is None:
        return set()
    found = sess.execute(select(Review.clinic_id).where(Review.id == review_id)).scalar()
    return {found} if found is not None else set()


def _old_and_new(obj, attr: str) -> set[int]:
    state = inspect(obj)
    out = set()
    if attr in state.attrs:
        hist = state.attrs[attr].history
        out.update(v for v in (*hist.added, *hist.unchanged, *hist.deleted) if v is not None)
    return out


def _user_clinics(sess: Session, obj: User, deleted: bool) -> set[int]:
    """The clinics whose pages show the user's name (testimonials and replies)."""
    changed = deleted or any(inspect(obj).attrs[a].history.has_changes() for a in USER_SHOWN)
    if not changed or obj.id is None:
        return set()
    ids = set(sess.execute(select(Review.clinic_id).where(Review.author_id == obj.id)).scalars())
    ids |= set(
        sess.execute(select(ClinicReply.clinic_id).where(ClinicReply.author_id == obj.id)).scalars()
    )
    return ids


def _report_clinics(_sess: Session, obj: Report) -> set[int]:
    return _old_and_new(obj, "by_clinic_id")  # the clinic page counts them


def _followup_clinics(sess: Session, obj: FollowUp) -> set[int]:
    out: set[int] = set()
    for review_id in _old_and_new(obj, "review_id"):
        out |= _clinic_of_review(sess, review_id)
    return out


def _photo_clinics(sess: Session, obj: Photo) -> set[int]:
    ids = _old_and_new(obj, "clinic_id")
    for review_id in _old_and_new(obj, "review_id"):
        ids |= _clinic_of_review(sess, review_id)
    if obj.id is not None:  # a result case's photo
        used = (
            (ResultCase.before_photo_id == obj.id)
            | (ResultCase.after_photo_id == obj.id)
            | (ResultCase.healed_photo_id == obj.id)
        )
        ids |= set(sess.execute(select(ResultCase.clinic_id).where(used)).scalars())
    return ids


def _own_clinic(_sess: Session, obj) -> set[int]:
    ids = _old_and_new(obj, "clinic_id")
    parent = getattr(obj, "clinic", None) if not ids else None
    if parent is not None and parent.id is not None:
        ids.add(parent.id)
    return ids


_CLINICS_OF = {
    Report: _report_clinics,
    FollowUp: _followup_clinics,
    Photo: _photo_clinics,
    Practitioner: _own_clinic,
    Review: _own_clinic,
    ClinicReply: _own_clinic,
    ResultCase: _own_clinic,
}


def scopes_for(sess: Session, obj, deleted: bool = False) -> set[int]:
    """The page scopes a change to obj affects (empty: no public page shows it)."""
    if isinstance(obj, NOT_SHOWN):
        return set()
    if isinstance(obj, Clinic):
        return {obj.id, LISTINGS} if obj.id is not None else {LISTINGS}
    if isinstance(obj, User):
        ids = _user_clinics(sess, obj, deleted)
    else:
        find = _CLINICS_OF.get(type(obj))
        if find is None and not hasattr(obj, "clinic_id"):
            # A table this module does not know: every page, until it is classified.
            return {EPOCH, LISTINGS}
        ids = (find or _own_clinic)(sess, obj)
    return ids | {LISTINGS} if ids else set()


def _changed(sess: Session, objs: Iterable, deleted: bool = False) -> set[int]:
    out: set[int] = set()
    for obj in objs:
        out |= scopes_for(sess, obj, deleted)
    return out


@event.listens_for(Session, "before_flush")
def _before_flush(sess, _ctx, _instances):
    # Deleted users: their testimonials lose the author in the database itself
    # (ON DELETE SET NULL), so find the clinics before the row goes.
    with sess.no_autoflush:
        users = [o for o in sess.deleted if isinstance(o, User)]
        if users:
            sess.info.setdefault(_PENDING, set()).update(_changed(sess, users, deleted=True))


@event.listens_for(Session, "after_flush")
def _after_flush(sess, _ctx):
    with sess.no_autoflush:
        scopes = sess.info.pop(_PENDING, set())
        scopes |= _changed(sess, sess.new)
        scopes |= _changed(sess, (o for o in sess.dirty if sess.is_modified(o)))
        scopes |= _changed(sess, (o for o in sess.deleted if not isinstance(o, User)), True)
        if scopes:
            _write(sess, scopes)


_TEXT_WRITE = re.compile(
    r"^\s*(?:update|insert\s+(?:or\s+\w+\s+)?into|delete\s+from)\s+\"?(\w+)", re.I
)
_NOT_SHOWN_TABLES = frozenset(cls.__tablename__ for cls in NOT_SHOWN)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state):
    """Statements through the session that no row event sees: an ORM bulk
    update, delete or insert, or a textual UPDATE/INSERT/DELETE, renew every page
    unless they write a table no page shows."""
    if isinstance(state.statement, TextClause):
        m = _TEXT_WRITE.match(state.statement.text)
        if m is None or m.group(1).lower() in _NOT_SHOWN_TABLES:
            return
        touch_all(state.session)
        return
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, NOT_SHOWN):
        return
    touch_all(state.session)


@event.listens_for(Session, "after_transaction_end")
def _transaction_end(sess, transaction):
    # A flush's own subtransaction ends inside the real one: keep what was written.
    # A transaction or savepoint that ends (committed or rolled back): write again.
    if transaction.parent is not None and not transaction.nested:
        return
    sess.info.pop(_PENDING, None)
    if transaction.parent is None:  # the whole unit of work ended: nothing left to write
        sess.info.pop(_TO_WRITE, None)


# The versions are read on a pooled DBAPI connection of their own, one statement
# (its own snapshot), before anything else the request reads: whatever the page
# then reads is at least as new, so no page is stored under a key newer than its
# data. This keeps a cache hit clear of the ORM session (a fraction of a ms).
_LISTINGS_SQL = (
    "SELECT scope, version FROM page_versions WHERE scope IN (-1, 0) UNION ALL "
    "SELECT -2, count(*) FROM (SELECT 1 FROM search_outbox WHERE id > {p} LIMIT 1) AS pending"
)
_IN_STATUSES = ", ".join(["{p}"] * len(PUBLIC_CLINIC_STATUSES))  # placeholders only
_CLINIC_SQL = (
    "SELECT c.id, v.version, e.version FROM clinics AS c "  # noqa: S608 - no input in it
    "LEFT JOIN page_versions AS v ON v.scope = c.id "
    "LEFT JOIN page_versions AS e ON e.scope = -1 "
    f"WHERE c.slug = {{p}} AND c.status IN ({_IN_STATUSES})"
)


def listings_state(applied_through: int = 0) -> tuple[tuple, bool]:
    """(the versions the home and search pages depend on, whether search-outbox
    rows past `applied_through` are pending, i.e. the index may lag the database)."""
    found = dict(read_rows(_LISTINGS_SQL, (applied_through,)))
    return (found.get(EPOCH) or 0, found.get(LISTINGS) or 0), bool(found.get(-2))


def listings_key() -> tuple:
    """The versions the home and search pages depend on."""
    return listings_state(2**62)[0]


def public_clinic_key(slug: str) -> tuple[int, tuple] | None:
    """(clinic id, its versions) when the public may see the clinic, else None."""
    if len(slug) > 120:
        return None
    rows = read_rows(_CLINIC_SQL, (slug, *PUBLIC_CLINIC_STATUSES))
    if not rows:
        return None
    clinic_id, mine, epoch = rows[0]
    return clinic_id, (epoch or 0, mine or 0)


def memo(name: str, versions: tuple, load: Callable[[], object]):
    """load(), computed again only when the versions change (per worker process).

    For data derived from many rows (the home page's lists): as correct as the
    page cache itself, whether or not pages are cached. Return plain values,
    never ORM objects (they belong to one session).
    """
    memos = current_app.extensions.setdefault("pagecache.memo", {})
    hit = memos.get(name)
    if hit is not None and hit[0] == versions:
        return hit[1]
    value = load()
    memos[name] = (versions, value)
    return value


# --------------------------------------------------------------------------
# Stores shared by the workers


class SqliteStore:
    """A SQLite file shared by the processes of one machine (WAL; best effort)."""

    def __init__(self, path: str, max_entries: int = 20_000):
        self.path = path
        self.max_entries = max_entries
        self._local = threading.local()
        self._writes = 0

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=0.2, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS pages "
                "(key TEXT PRIMARY KEY, body BLOB NOT NULL, expires REAL NOT NULL)"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS pages_expires ON pages (expires)")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def get(self, key: str) -> bytes | None:
        row = (
            self._conn()
            .execute("SELECT body FROM pages WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return row[0] if row else None

    def set(self, key: str, body: bytes, ttl: int) -> None:
        conn = self._conn()
        now = time.time()
        conn.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?)", (key, body, now + ttl))
        self._writes += 1
        if self._writes % 200 == 0:
            conn.execute("DELETE FROM pages WHERE expires <= ?", (now,))
            conn.execute(
                "DELETE FROM pages WHERE key IN (SELECT key FROM pages ORDER BY expires DESC "
                "LIMIT -1 OFFSET ?)",
                (self.max_entries,),
            )


class RedisStore:
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)

    def get(self, key: str) -> bytes | None:
        return self.client.get("directory:page:" + key)

    def set(self, key: str, body: bytes, ttl: int) -> None:
        self.client.set("directory:page:" + key, body, ex=ttl)


class PageCache:
    def __init__(self, app: Flask):
        cfg = app.config
        url = cfg.get("PAGE_CACHE_URL") or ""
        if url.startswith(("redis://", "rediss://", "unix://")):
            self.store = RedisStore(url)
        else:
            path = url.removeprefix("sqlite:///") or os.path.join(
                app.instance_path, "pagecache.sqlite3"
            )
            self.store = SqliteStore(path, int(cfg.get("PAGE_CACHE_MAX_ENTRIES", 20_000)))
        self.ttl = int(cfg.get("PAGE_CACHE_TTL_S", 3600))
        self.local: OrderedDict[str, bytes] = OrderedDict()
        self.local_bytes = 0
        self.local_max = int(cfg.get("PAGE_CACHE_LOCAL_BYTES", 16 * 1024 * 1024))
        self.lock = threading.Lock()
        self.build = build_id(app)

    def get(self, key: str) -> bytes | None:
        with self.lock:
            body = self.local.get(key)
            if body is not None:
                self.local.move_to_end(key)
                return body
        try:
            body = self.store.get(key)
        except Exception:  # noqa: BLE001 - a cache failure renders the page instead
            log.warning("page cache read failed", exc_info=True)
            return None
        if body is not None:
            self._keep(key, body)
        return body

    def set(self, key: str, body: bytes) -> None:
        self._keep(key, body)
        try:
            self.store.set(key, body, self.ttl)
        except Exception:  # noqa: BLE001
            log.warning("page cache write failed", exc_info=True)

    def variant(self, key: str, encoding: str, body: bytes) -> bytes:
        """The page compressed as Flask-Compress compresses it, once per process (a
        stored page is the same bytes for every visitor)."""
        from flask_compress.flask_compress import _compress_data

        name = f"{key};{encoding}"
        with self.lock:
            data = self.local.get(name)
        if data is None:
            data = _compress_data(current_app, body, encoding)
            self._keep(name, data)
        return data

    def _keep(self, key: str, body: bytes) -> None:
        with self.lock:
            if key in self.local:
                return
            self.local[key] = body
            self.local_bytes += len(body)
            while self.local_bytes > self.local_max and self.local:
                _, old = self.local.popitem(last=False)
                self.local_bytes -= len(old)


def build_id(app: Flask) -> str:
    """Changes when the code, the templates or the settings pages depend on change."""
    h = hashlib.blake2b(digest_size=8)
    roots = [Path(__file__).parent, Path(app.root_path).parent / "templates"]
    if app.template_folder:
        roots.append(Path(app.root_path, app.template_folder))
    for root in dict.fromkeys(r.resolve() for r in roots):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".html", ".xml", ".txt"):
                st = path.stat()
                h.update(f"{path}:{st.st_mtime_ns}:{st.st_size};".encode())
    for key, value in sorted(app.config.items()):
        if "SECRET" in key or "PASSWORD" in key:
            continue
        if isinstance(value, str | int | float | bool | type(None)):
            h.update(f"{key}={value!r};".encode())
    return h.hexdigest()


def init_app(app: Flask) -> None:
    app.extensions["pagecache"] = PageCache(app) if app.config.get("PAGE_CACHE") else None
    # Before ProxyFix wraps the application (ops), so the hit path sees its fixes.
    if "pagecache.hit_path" not in app.extensions:
        app.extensions["pagecache.hit_path"] = True
        app.wsgi_app = HitPath(app, app.wsgi_app)


# --------------------------------------------------------------------------
# Serving


def enabled() -> bool:
    """Whether pages may be served from the cache at all (PAGE_CACHE)."""
    return current_app.extensions.get("pagecache") is not None


def keep_out() -> None:
    """This request's page must not be stored (it shows a passing state, such as a
    search cut short by its time limit); it is still sent."""
    g.page_cache_keep_out = True


def may_serve() -> bool:
    """Whether this request's page may come from (or go into) the cache: the cache
    is on and the visitor is anonymous. When not, a caller need not read the page's
    versions at all."""
    return enabled() and _anonymous()


def _anonymous() -> bool:
    """True for a visitor without a user: decided from the cookies alone when
    there are none (no session is loaded, no cookie set)."""
    cookies = request.cookies
    cfg = current_app.config
    if cfg["SESSION_COOKIE_NAME"] not in cookies and (
        cfg.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies
    ):
        return True
    # A visitor's own case (like-for-like scores) makes the page personal.
    return (
        not current_user.is_authenticated
        and not session.get("_flashes")
        and not session.get(CASE_SESSION_KEY)
    )


def serve(parts: tuple | None, render: Callable[[], object]) -> Response:
    """The page from the cache for anonymous visitors, else render() (stored when
    it is a plain 200 that touched no session). parts=None: never cached."""
    cache: PageCache | None = current_app.extensions.get("pagecache")
    if not _anonymous():
        response = make_response(render())
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    if cache is None or parts is None:
        response = make_response(render())
        response.headers.setdefault("Cache-Control", "no-cache")
        return response
    key = page_key(cache, request.host, request.path, request.query_string, parts)
    etag = key
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
        response.headers["X-Page-Cache"] = "revalidated"
        return _public_headers(response, etag)
    body = cache.get(key)
    if body is not None:
        response = Response(body, mimetype="text/html")
        response.headers["X-Page-Cache"] = "hit"
        return _public_headers(response, etag)
    response = make_response(render())
    if (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not response.direct_passthrough
        and not session.modified
        and "Set-Cookie" not in response.headers
        and not g.get("page_cache_keep_out")
        and _without_nonce(response.get_data())
    ):
        cache.set(key, response.get_data())
        response.headers["X-Page-Cache"] = "miss"
        return _public_headers(response, etag)
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


def _without_nonce(body: bytes) -> bool:
    """A stored page is the same bytes for every visitor, so it must not hold this
    response's CSP nonce (an inline script would run for nobody else): such a page
    is sent, never stored. The cached pages' only scripts are JSON-LD, a data block
    no policy governs, which needs none."""
    nonce = getattr(g, "csp_nonce", "")
    if nonce and nonce.encode() in body:
        log.warning("page %s holds its CSP nonce: not cached", request.path)
        return False
    return True


def page_key(cache: PageCache, host: str, path: str, query: bytes, parts: tuple) -> str:
    """The key (and ETag) of a page: the build, the address and what the page shows."""
    raw = "|".join(map(str, (cache.build, host, path, query.decode("latin-1"), *parts)))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def _public_headers(response: Response, etag: str) -> Response:
    response.set_etag(etag, weak=True)
    # Stored by browsers and proxies, revalidated every time (a 304 when unchanged);
    # a visitor with cookies may get another page.
    response.headers["Cache-Control"] = "public, no-cache"
    if "Vary" in response.headers:
        response.vary.add("Cookie")
    else:  # the usual case, without parsing a header set
        response.headers["Vary"] = "Cookie"
    return response


# --------------------------------------------------------------------------
# The hit path: a cached page answered before Flask


def cacheable(parts_of: Callable[..., tuple | None], served: Callable[[tuple], None] | None = None):
    """Mark a view whose page anonymous visitors get from the cache under
    `parts_of(args, **view_args)` (the same parts the view passes to serve(); None:
    not cached; it may abort(404)). `served(parts)` runs for every page served from
    the cache before Flask (a clinic's view counter); the view does its own.

    A page served from the cache before Flask does not count against the view's
    rate limit (search's): the limit guards the work a miss does, and a hit costs
    less than the minimal page. Every miss still counts."""

    def mark(view):
        view.page_parts, view.page_served = parts_of, served
        return view

    return mark


class HitPath:
    """WSGI, in front of Flask: an anonymous visitor's GET or HEAD of a page the
    cache holds is answered here, without a request context, hooks or a session.
    Same key, body and headers as serve() gives (tests compare them), for about
    half the CPU: a hit is most of what the site serves. Anything else (a session
    or remember cookie, a view not marked `cacheable`, a miss, a host, path or page
    Flask refuses, any error) goes on to Flask unchanged."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        app = self.app
        cache: PageCache | None = app.extensions.get("pagecache")
        if (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and cache is not None
            and app.config["PAGE_CACHE_HIT_PATH"]
        ):
            started = time.perf_counter()
            try:
                answer = self._answer(cache, environ, started)
            except Exception:  # noqa: BLE001 - Flask's own path answers instead
                log.warning("page cache hit path failed", exc_info=True)
                answer = None
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.wsgi_app(environ, start_response)

    def _answer(self, cache: PageCache, environ, started: float):
        from directory.ops import observe  # ops imports the views, which import this

        found = self._cacheable_view(environ)
        if found is None:
            return None
        req, endpoint, view_args, view = found
        app = self.app
        with app.app_context(), serving_a_read():
            try:
                parts = view.page_parts(req.args, **view_args)
            except HTTPException:  # the view's own 404 page
                return None
            if parts is None:
                return None
            key = page_key(cache, req.host, req.path, req.query_string, parts)
            if req.if_none_match.contains_weak(key):
                status, body, encoding = 304, b"", None
            else:
                body = cache.get(key)
                if body is None:
                    return None  # a miss: Flask renders and stores it
                status, encoding = 200, self._encoding(environ, body)
                if encoding is not None:
                    body = cache.variant(key, encoding, body)
            if view.page_served is not None:
                view.page_served(parts)
            headers = self._headers(status, key, body, encoding)
            observe(endpoint, req.method, status, started)
        if req.method == "HEAD":
            body = b""
        return ("200 OK" if status == 200 else "304 Not Modified"), headers, body

    def _cacheable_view(self, environ):
        """(request, endpoint, view args, view) of an anonymous visitor's request for
        a view marked cacheable, else None."""
        app = self.app
        cfg = app.config
        cookie_header = environ.get("HTTP_COOKIE")
        if cookie_header and (
            cfg["SESSION_COOKIE_NAME"] in cookie_header
            or cfg.get("REMEMBER_COOKIE_NAME", "remember_token") in cookie_header
        ):
            return None  # maybe a user: Flask decides
        req = app.request_class(environ)
        try:
            endpoint, view_args = app.create_url_adapter(req).match()
        except Exception:  # noqa: BLE001 - a bad host, a redirect, a 404: Flask's pages
            return None
        view = app.view_functions.get(endpoint)
        if getattr(view, "page_parts", None) is None:
            return None
        return req, endpoint, view_args, view

    def _encoding(self, environ, body: bytes) -> str | None:
        """The compression Flask-Compress would apply to this page, if any."""
        from flask_compress.flask_compress import _choose_algorithm

        compress = self.app.extensions.get("compress")
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        if compress is None or not accept or len(body) < self.app.config["COMPRESS_MIN_SIZE"]:
            return None
        return _choose_algorithm(compress.enabled_algorithms, accept)

    def _headers(self, status: int, key: str, body: bytes, encoding: str | None) -> list:
        """The headers Flask's path gives a hit or a 304 (the tests compare them)."""
        app = self.app
        request_id, nonce = new_request_ids()
        headers = []
        if status == 200:
            headers.append(("Content-Type", "text/html; charset=utf-8"))
            headers.append(("Content-Length", str(len(body))))
            if encoding:  # and, as Flask-Compress's conditional check adds, a date
                headers.append(("Content-Encoding", encoding))
                headers.append(("Date", http_date()))
        headers += [
            ("X-Page-Cache", "hit" if status == 200 else "revalidated"),
            ("ETag", f'W/"{key}"'),
            ("Cache-Control", "public, no-cache"),
            ("Vary", "Cookie, Accept-Encoding" if "compress" in app.extensions else "Cookie"),
            *security_headers(app, nonce).items(),
            ("X-Request-ID", request_id),
        ]
        return headers
