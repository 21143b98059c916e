"""/healthz, /metrics, structured logs, compressed responses and static caching."""

from __future__ import annotations

import gzip
import json
import logging
import re

import brotli

from directory.extensions import db
from directory.ops import JsonFormatter, RequestIdFilter
from directory.services import mail
from tests.factories import ClinicFactory, ReviewFactory


def test_healthz_reports_database_index_queue_and_disk(app, client):
    with app.app_context():
        from directory.search import indexer

        indexer.rebuild(app.config["INDEX_DIR"])
    resp = client.get("/healthz")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["status"] == "ok" and data["database"] == "ok"
    assert data["generation"] is not None and data["lag"] == 0
    assert data["mail_backlog"] == 0 and data["disk_free_mb"] > 0
    assert resp.headers["Cache-Control"] == "no-store"


def test_healthz_fails_when_the_database_is_gone(tmp_path):
    from directory import create_app
    from tests.conftest import make_config

    cfg = make_config(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///" + str(tmp_path / "no" / "x"))
    app = create_app(cfg)
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["status"] == "failing"


def test_metrics_show_latency_by_endpoint_and_backlogs(app, client):
    with app.app_context():
        clinic = ClinicFactory()
        ReviewFactory(clinic=clinic, status="pending")
        mail.send("x@example.com", "s", "b")
        db.session.commit()

    def home_count(text: str) -> float:  # the histogram is the process's: other tests add
        pattern = r'directory_request_seconds_count\{endpoint="public.home".*\} (\S+)'
        found = re.search(pattern, text)
        return float(found.group(1)) if found else 0.0

    before = home_count(client.get("/metrics").get_data(as_text=True))
    client.get("/")
    client.get("/")  # from the page cache, before Flask: counted all the same
    text = client.get("/metrics").get_data(as_text=True)
    assert home_count(text) == before + 2
    assert "directory_moderation_backlog 1" in text
    assert "directory_mail_backlog 0" in text  # the file backend delivered it at once
    assert "directory_search_outbox_lag" in text


def test_metrics_are_refused_to_outside_addresses_without_the_token(app_factory):
    app = app_factory(METRICS_TOKEN="s3cret-token-for-scrapers")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert client.get("/metrics").status_code == 403
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token-for-scrapers"})
    assert ok.status_code == 200


def test_log_lines_carry_a_timestamp_and_the_request_id(app):
    record = logging.LogRecord("directory.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc123"
        RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc123" and line["msg"] == "hello you"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["ts"])


def test_pages_are_compressed_with_brotli_or_gzip(app, client):
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    br = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    gz = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert br.headers["Content-Encoding"] == "br"
    assert gz.headers["Content-Encoding"] == "gzip"
    # Each page has its own nonce and token, so compare shapes, not bytes.
    for body in (brotli.decompress(br.data), gzip.decompress(gz.data)):
        assert body.lower().startswith(b"<!doctype html")
        assert abs(len(body) - len(plain.data)) < 200
    assert len(br.data) < len(plain.data) / 2


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', html)


def test_static_files_are_fingerprinted_cached_a_year_and_precompressed(client):
    urls = static_urls(client.get("/").get_data(as_text=True))
    assert any("bootstrap" in u and ".css" in u for u in urls)
    for url in urls:
        url = url.replace("&amp;", "&")
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200
        assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        body = plain.get_data()
        compressible = plain.mimetype.startswith(("text/", "application/javascript"))
        plain.close()
        if not compressible:
            continue
        br = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert br.headers["Content-Encoding"] == "br"
        assert brotli.decompress(br.get_data()) == body
        assert "Accept-Encoding" in br.headers["Vary"]
        br.close()
    # A stale or missing version is revalidated instead of cached for a year.
    bare = urls[0].split("?")[0]
    resp = client.get(bare + "?v=000000000000")
    assert resp.headers["Cache-Control"] == "no-cache"
    resp.close()
