"""Cached pages answered before Flask (pagecache.HitPath) are the pages Flask
would send: the same status, bytes and headers (but the nonce and request id,
which are new on every response), for plain, compressed, conditional and HEAD
requests; everything else still goes through Flask."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from flask import request_started

from tests.conftest import login
from tests.web.test_page_cache import PAGES

FRESH = {"Content-Security-Policy", "X-Request-ID"}


@pytest.fixture
def dispatched(app):
    """How many requests reached Flask's dispatch (the hit path sends none there)."""
    seen = []

    def count(sender, **_extra):
        seen.append(1)

    request_started.connect(count, app)
    yield seen
    request_started.disconnect(count, app)


def _fetch(app, client, path, hit_path: bool, **kwargs):
    app.config["PAGE_CACHE_HIT_PATH"] = hit_path
    try:
        return client.open(path, **kwargs)
    finally:
        app.config["PAGE_CACHE_HIT_PATH"] = True


def _decoded(resp) -> bytes:
    data = resp.get_data()
    return {"gzip": gzip.decompress, "br": brotli.decompress}.get(
        resp.headers.get("Content-Encoding"), lambda d: d
    )(data)


def _comparable(resp) -> dict:
    headers = {k: v for k, v in resp.headers.items() if k not in FRESH}
    if "Date" in headers:  # the second it was sent
        headers["Date"] = "*"
    if resp.headers.get("Content-Encoding") == "gzip":  # gzip's header holds a time
        headers.pop("Content-Length")
    policy = re.sub(r"'nonce-[^']+'", "'nonce-*'", resp.headers["Content-Security-Policy"])
    return {"status": resp.status_code, "headers": headers, "policy": policy}


@pytest.mark.parametrize(
    "method, headers",
    [
        ("GET", {}),
        ("GET", {"Accept-Encoding": "gzip"}),
        ("GET", {"Accept-Encoding": "gzip, deflate, br"}),
        ("HEAD", {}),
        ("HEAD", {"Accept-Encoding": "br"}),
    ],
)
def test_a_hit_before_flask_is_the_page_flask_sends(worlds, dispatched, method, headers):
    app, _staff, _world = worlds
    visitor = app.test_client()
    for path in [*PAGES, "/?near=London", "/search?q=scar&sort=relevance"]:
        assert visitor.get(path).status_code == 200  # rendered and stored by Flask
        flask_hit = _fetch(app, visitor, path, False, method=method, headers=headers)
        before = len(dispatched)
        early = _fetch(app, visitor, path, True, method=method, headers=headers)
        assert len(dispatched) == before, f"{path} went through Flask"
        assert flask_hit.headers["X-Page-Cache"] == early.headers["X-Page-Cache"] == "hit"
        assert _comparable(early) == _comparable(flask_hit), path
        assert early.headers["X-Request-ID"] != flask_hit.headers["X-Request-ID"]
        if method == "GET":
            assert _decoded(early) == _decoded(flask_hit) != b"", path
        else:
            assert early.get_data() == b"" and early.headers["Content-Length"] != "0"


def test_a_revalidation_before_flask_is_flasks_304(worlds, dispatched):
    app, _staff, _world = worlds
    visitor = app.test_client()
    for path in PAGES:
        etag = visitor.get(path).headers["ETag"]
        conditional = {"If-None-Match": etag}
        flask_304 = _fetch(app, visitor, path, False, headers=conditional)
        before = len(dispatched)
        early = _fetch(app, visitor, path, True, headers=conditional)
        assert len(dispatched) == before
        assert early.status_code == flask_304.status_code == 304
        assert _comparable(early) == _comparable(flask_304), path
        assert early.get_data() == b""


def test_what_the_hit_path_leaves_to_flask(worlds, dispatched):
    app, _staff, world = worlds
    visitor = app.test_client()

    def through_flask(client, path, **kwargs):
        before = len(dispatched)
        resp = client.get(path, **kwargs)
        assert len(dispatched) == before + 1, path
        return resp

    # A miss is rendered (and stored) by the view; the next visit is the hit.
    assert through_flask(visitor, "/clinics/studio").headers["X-Page-Cache"] == "miss"
    # A clinic the public may not see, a path with no page: Flask's 404 pages.
    assert through_flask(visitor, "/clinics/no-such-clinic").status_code == 404
    assert through_flask(visitor, "/clinics/studio/nowhere").status_code == 404
    # A logged-in member: their own page, never the cached one.
    member = app.test_client()
    login(member, world.author_id)
    resp = through_flask(member, "/clinics/studio")
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert "X-Page-Cache" not in resp.headers and "Log out" in resp.get_data(as_text=True)
    # A host the site does not serve: Flask's 400, not a cached page.
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    try:
        resp = through_flask(visitor, "/clinics/studio", headers={"Host": "evil.example"})
        assert resp.status_code == 400
    finally:
        app.config["TRUSTED_HOSTS"] = None
    # A POST is never a hit.
    assert visitor.post("/clinics/studio").status_code == 405


def test_search_hits_do_not_count_against_the_search_limit_and_misses_do(app_factory):
    from directory.extensions import db
    from directory.search import indexer
    from tests.factories import ClinicFactory

    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="2/minute")
    with app.app_context():
        ClinicFactory(name="Limit Studio")
        db.session.commit()
        indexer.rebuild(app.config["INDEX_DIR"])
    visitor = app.test_client()
    assert visitor.get("/search?q=studio").headers["X-Page-Cache"] == "miss"  # counted: 1
    for _ in range(3):  # from the cache, before Flask: not counted
        assert visitor.get("/search?q=studio").headers["X-Page-Cache"] == "hit"
    assert visitor.get("/search?q=limit").status_code == 200  # a miss, counted: 2
    assert visitor.get("/search?q=another").status_code == 429  # a third miss: refused
    assert visitor.get("/search?q=studio").status_code == 200  # what is cached still shows


def test_a_first_search_with_no_index_is_answered_without_waiting_on_a_lock(app_factory, caplog):
    """The hit path works out a search's key from the index; with no index yet it
    builds one. Its reads held SQLite's write lock, so the build waited out the busy
    timeout on it and failed ("database is locked": 10 s with the default timeout)
    before Flask answered. Now the hit path builds the index and the page shows."""
    from directory.extensions import db
    from tests.factories import ClinicFactory

    app = app_factory(PAGE_CACHE=True, SQLITE_BUSY_TIMEOUT_MS=500)
    with app.app_context():
        ClinicFactory(name="Lockfree Scalp Studio", slug="lockfree")
        db.session.commit()
    client = app.test_client()
    resp = client.get("/search")
    assert resp.status_code == 200 and "Lockfree Scalp Studio" in resp.get_data(as_text=True)
    assert "hit path failed" not in caplog.text
    assert client.get("/search").headers["X-Page-Cache"] == "hit"
