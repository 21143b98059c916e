"""Running the site as a service: proxy headers, logs, metrics, health, static caching.

- ProxyFix with PROXY_HOPS trusted proxies: request.remote_addr (and so every
  per-IP rate limit) is the real client's address, taken from the last
  PROXY_HOPS entries of X-Forwarded-For; a forged header added by the client
  further left is ignored.
- Logs: every line has a UTC timestamp and the request id (also sent back as
  X-Request-ID and written in gunicorn's access log); JSON lines in production.
- /healthz: database, search index generation and lag, job queue depth, mail
  backlog, free disk space. 200 when the database answers, else 503.
- /metrics: Prometheus text (request latency by endpoint, queue depth, outbox
  lag, mail backlog, moderation backlog). Served to loopback addresses, or with
  `Authorization: Bearer <METRICS_TOKEN>`.
- Static files: URLs carry ?v=<content hash>; such a URL is cached for a year
  (immutable); gzip/brotli versions are made once per file and kept in memory.
  Pages are compressed by Flask-Compress.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import logging
import os
import shutil
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache

from flask import Blueprint, Flask, current_app, g, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

from directory.guards import public
from directory.ratelimits import limited

log = logging.getLogger("directory.ops")

bp = Blueprint("ops", __name__)

STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})
YEAR = 365 * 24 * 3600


# --------------------------------------------------------------------------
# Logging.


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        rid = "-"
        if has_request_context():
            rid = getattr(g, "request_id", "-")
        record.request_id = rid
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(app: Flask) -> None:
    """One handler on the "directory" logger (stderr), formatted per LOG_FORMAT."""
    logger = logging.getLogger("directory")
    if app.config.get("TESTING") and logger.handlers:
        return
    for h in list(logger.handlers):
        if getattr(h, "_directory", False):
            logger.removeHandler(h)
    handler = logging.StreamHandler()
    handler._directory = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        fmt = logging.Formatter(TEXT_FORMAT, "%Y-%m-%dT%H:%M:%S%z")
        fmt.converter = time.gmtime
        handler.setFormatter(fmt)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


# --------------------------------------------------------------------------
# Metrics.

_metrics_lock = threading.Lock()
_latency = None


def _histogram():
    global _latency
    with _metrics_lock:
        if _latency is None:
            from prometheus_client import Histogram

            _latency = Histogram(
                "directory_request_seconds",
                "Time to answer a request, by endpoint",
                ["endpoint", "method", "status"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            )
        return _latency


def _may_see_metrics() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    addr = request.remote_addr or ""
    return addr in ("127.0.0.1", "::1") or addr.startswith("127.")


@bp.get("/metrics")
@public
def metrics():
    from flask import abort
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    if not _may_see_metrics():
        abort(403)
    _histogram()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    text = generate_latest(registry).decode()
    lines = []
    for name, help_text, value in _gauges():
        if value is None:
            continue
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
    body = text + "\n".join(lines) + "\n"
    return current_app.response_class(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0])


def _gauges():
    st = state()
    return [
        ("directory_job_queue_depth", "Jobs waiting in the queue", st["queue_depth"]),
        ("directory_mail_backlog", "Committed mail not yet delivered", st["mail_backlog"]),
        ("directory_mail_failed", "Mail given up after every retry", st["mail_failed"]),
        ("directory_search_outbox_lag", "Outbox rows this node has not applied", st["lag"]),
        (
            "directory_search_outbox_lag_seconds",
            "Age of the oldest outbox row this node has not applied",
            st["lag_seconds"],
        ),
        ("directory_search_index_generation", "Search index generation", st["generation"]),
        ("directory_moderation_backlog", "Items waiting for a moderator", st["moderation"]),
    ]


def state() -> dict:
    """Figures shared by /healthz and /metrics (each None when it cannot be read)."""
    from sqlalchemy import func, select

    from directory import jobs
    from directory.extensions import db
    from directory.models import FollowUp, OutgoingMail, Photo, Report, ResultCase, Review
    from directory.search import indexer

    out: dict = {}
    try:
        db.session.execute(select(1)).scalar_one()
        out["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        out["database"] = f"error: {type(exc).__name__}"
        db.session.rollback()
        return out | {
            k: None
            for k in (
                "queue_depth",
                "mail_backlog",
                "mail_failed",
                "lag",
                "lag_seconds",
                "generation",
                "moderation",
            )
        }

    def count(model, *where):
        return db.session.execute(
            select(func.count()).select_from(model).where(*where)
        ).scalar_one()

    out["queue_depth"] = jobs.depth()
    out["mail_backlog"] = count(OutgoingMail, OutgoingMail.status.in_(("pending", "sending")))
    out["mail_failed"] = count(OutgoingMail, OutgoingMail.status == "failed")
    out["moderation"] = sum(
        count(m, m.status == "pending") for m in (Review, FollowUp, Photo, ResultCase)
    ) + count(Report, Report.status == "open")
    index_dir = current_app.config["INDEX_DIR"]
    try:
        lag = indexer.lag()
        out["lag"], out["lag_seconds"] = lag
    except Exception:  # noqa: BLE001
        out["lag"] = out["lag_seconds"] = None
    try:
        out["generation"] = indexer.current(index_dir).ix.latest_generation()
    except Exception:  # noqa: BLE001 - missing index: reported, not fatal
        out["generation"] = None
    db.session.rollback()
    return out


@bp.get("/healthz")
@public
def healthz():
    st = state()
    instance = current_app.instance_path
    try:
        usage = shutil.disk_usage(instance)
        st["disk_free_mb"] = usage.free // (1024 * 1024)
        st["disk_free_ratio"] = round(usage.free / usage.total, 3)
    except OSError:
        st["disk_free_mb"] = None
    ok = st.get("database") == "ok"
    min_free = int(current_app.config.get("HEALTHZ_MIN_FREE_MB", 200))
    if st.get("disk_free_mb") is not None and st["disk_free_mb"] < min_free:
        ok = False
        st["disk"] = "low"
    st["status"] = "ok" if ok else "failing"
    resp = current_app.response_class(
        json.dumps(st, sort_keys=True), status=200 if ok else 503, mimetype="application/json"
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/reminders/unsubscribe/<token>", methods=["GET", "POST"])
@public
@limited("RATELIMIT_ACCOUNT")
def unsubscribe(token: str):
    """Stop reminder mails from the link in one (no login: the signed token names
    the account). GET shows a button, POST (CSRF-checked) does it."""
    from flask import render_template

    from directory import reminders, services
    from directory.services import Invalid

    try:
        user = reminders.user_for_token(token)
    except Invalid as exc:
        return render_template("auth/message.html", title="Link not valid", message=str(exc)), 400
    if request.method == "POST":
        reminders.unsubscribe(user)
        services.commit()
        return render_template(
            "auth/message.html",
            title="Unsubscribed",
            message="You will get no more reminder mails from us.",
        )
    done = user.reminders_off_at is not None
    return render_template("ops/unsubscribe.html", token=token, done=done)


# --------------------------------------------------------------------------
# Static files: fingerprint, long cache, precompressed bodies.


@lru_cache(maxsize=512)
def _file_hash(path: str, mtime: float) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


@lru_cache(maxsize=1024)
def _resolve(folder: str, filename: str) -> str | None:
    """The real path of filename under folder, None when it leads outside it."""
    path = os.path.realpath(os.path.join(folder, filename))
    return path if path.startswith(os.path.realpath(folder) + os.sep) else None


def _static_path(app: Flask, endpoint: str, filename: str) -> str | None:
    folder = app.static_folder
    if endpoint != "static":
        bp_name = endpoint.rsplit(".", 1)[0]
        blueprint = app.blueprints.get(bp_name)
        folder = blueprint.static_folder if blueprint else None
    if not folder:
        return None
    path = _resolve(folder, filename)
    if path is None or not os.path.isfile(path):
        return None
    return path


def fingerprint(app: Flask, endpoint: str, filename: str) -> str | None:
    """The file's content version; read once per process unless debugging (static
    files change with a deploy, which starts new workers)."""
    known = app.extensions.setdefault("static.fingerprints", {})
    key = (endpoint, filename)
    if key in known and not app.debug:
        return known[key]
    path = _static_path(app, endpoint, filename)
    version = None if path is None else _file_hash(path, os.path.getmtime(path))
    known[key] = version
    return version


@lru_cache(maxsize=256)
def _compressed(path: str, mtime: float, encoding: str) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read()
    if encoding == "br":
        import brotli

        return brotli.compress(data, quality=11)
    return gzip.compress(data, compresslevel=9, mtime=0)


COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


def _static_after(app: Flask, response):
    if request.endpoint not in STATIC_ENDPOINTS or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    version = request.args.get("v")
    if version and version == fingerprint(app, request.endpoint, filename):
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    if response.status_code != 200 or not (response.mimetype or "").startswith(COMPRESSIBLE):
        return response
    response.vary.add("Accept-Encoding")
    accepted = request.accept_encodings
    encoding = "br" if accepted["br"] else "gzip" if accepted["gzip"] else None
    path = _static_path(app, request.endpoint, filename)
    if encoding is None or path is None or request.range:
        return response
    body = _compressed(path, os.path.getmtime(path), encoding)
    original = response.response
    response.direct_passthrough = False
    response.set_data(body)
    close = getattr(original, "close", None)
    if close is not None:
        close()  # the file the plain response would have streamed
    response.headers["Content-Encoding"] = encoding
    response.headers.pop("Content-Range", None)
    if response.headers.get("ETag"):
        tag, weak = response.get_etag()
        response.set_etag(f"{tag}-{encoding}", weak=weak)
    return response


# --------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    from flask_compress import Compress

    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    configure_logging(app)

    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        ["text/html", "text/css", "text/plain", "application/json", "application/javascript"],
    )
    # Static files are streamed; they are compressed once and cached (above).
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.extensions["compress"] = Compress(app)

    @app.url_defaults
    def _static_version(endpoint, values):
        if endpoint in STATIC_ENDPOINTS and "filename" in values and "v" not in values:
            version = fingerprint(app, endpoint, values["filename"])
            if version:
                values["v"] = version

    @app.before_request
    def _start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def _after(response):
        response = _static_after(app, response)
        started = getattr(g, "started", None)
        if started is not None:
            observe(request.endpoint, request.method, response.status_code, started)
        return response

    app.register_blueprint(bp)


def observe(endpoint: str | None, method: str, status: int, started: float) -> None:
    """Count a request in the latency histogram (the page cache's hit path too)."""
    try:
        _histogram().labels(endpoint or "none", method, f"{status // 100}xx").observe(
            time.perf_counter() - started
        )
    except Exception:  # noqa: BLE001 - metrics never break a response
        log.debug("metrics observe failed", exc_info=True)


def prune() -> None:
    """Delete sent mail past its retention and outbox rows every node has applied."""
    from datetime import timedelta

    from sqlalchemy import delete

    from directory.extensions import db
    from directory.models import OutgoingMail
    from directory.search import indexer

    cutoff = datetime.now(UTC) - timedelta(days=int(current_app.config["MAIL_RETENTION_DAYS"]))
    db.session.execute(
        delete(OutgoingMail).where(OutgoingMail.status == "sent", OutgoingMail.sent_at < cutoff)
    )
    indexer.prune_outbox()
    db.session.commit()
