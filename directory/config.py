"""Configuration defaults and the checks run after every source is loaded.

Order: these defaults, then instance/config.py, then DIRECTORY_* environment
variables (or, in tests, the dict passed to create_app). Paths derive from the
instance folder afterwards. Nothing here reads the environment at import time.
"""

from __future__ import annotations

import os
from datetime import timedelta

DEFAULT_SECRET_KEYS = {None, "", "dev", "change-me", "secret"}
MIN_SECRET_KEY_LENGTH = 32


class Defaults:
    SECRET_KEY = None
    DEBUG = False
    TESTING = False
    # Production flag: secure cookies, HSTS, strict start-up checks.
    PRODUCTION = False

    SQLALCHEMY_DATABASE_URI = None  # default: sqlite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLITE_BUSY_TIMEOUT_MS = 10_000

    INDEX_DIR = None  # default: instance/index
    MEDIA_DIR = None  # default: instance/media
    MAIL_DIR = None  # default: instance/mail

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    # The address links in e-mails point to.
    CANONICAL_URL = "http://127.0.0.1:5000"
    TRUSTED_HOSTS = ["127.0.0.1", "localhost"]

    MAX_CONTENT_LENGTH = 60 * 1024 * 1024  # six photos of up to ~10 MB each
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    MAX_FORM_PARTS = 200

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False

    WTF_CSRF_TIME_LIMIT = 3600 * 4

    # Default: a SQLite file in the instance folder (directory/ratelimit_store.py), shared
    # by every worker process, so each limit holds exactly; production: redis://.
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "directory"
    # Named limits (directory/ratelimits.py `limited("RATELIMIT_X")`); "5/minute;30/hour"
    # combines several windows.
    RATELIMIT_LOGIN_IP = "30/minute;300/hour"
    RATELIMIT_LOGIN_ACCOUNT = "5/minute;30/hour"
    RATELIMIT_REGISTER = "10/hour"
    RATELIMIT_RESET = "5/hour"
    RATELIMIT_TOTP = "10/minute"
    RATELIMIT_REVIEW = "5/hour"
    RATELIMIT_REPORT = "10/hour"
    RATELIMIT_APPEAL = "10/day"
    RATELIMIT_CLAIM = "5/hour;10/day"
    RATELIMIT_NEW_CLINIC = "3/hour;5/day"
    RATELIMIT_UPLOAD = "30/hour"
    RATELIMIT_SEARCH = "60/minute"
    RATELIMIT_SUGGEST = "120/minute"
    # Password, e-mail and deletion forms (each checks the current password).
    RATELIMIT_ACCOUNT = "10/hour"
    # Every other state change of a logged-in user (profile edits, replies, deletes...).
    RATELIMIT_WRITE = "60/hour"
    RATELIMIT_MODERATION = "600/hour"
    # Each limit counts per account and per origin (client address); a per-origin value
    # of its own can be set as <NAME>_ORIGIN, e.g. RATELIMIT_SEARCH_ORIGIN = "600/minute".
    RATELIMIT_API = "120/minute"  # the public API, per client address
    # Number of web worker processes (gunicorn.conf.py passes gunicorn's real count);
    # memory rate-limit storage is refused above 1 because each worker would count
    # separately.
    WORKERS = 1
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host
    # (Werkzeug's ProxyFix); 0 = the app faces the clients directly.
    PROXY_HOPS = 0

    # Job queue (directory/jobs.py): sqlite:///path (default instance/jobs.sqlite3),
    # redis://127.0.0.1:6379/5, or "immediate" (run inline; the tests' default).
    JOBS_URL = None

    MAIL_BACKEND = "file"  # "file" (instance/mail/*.eml) or "smtp"
    MAIL_FROM = "SMP Clinic Directory <no-reply@smp-directory.example>"
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 25
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_STARTTLS = False
    SMTP_TIMEOUT_S = 10
    # The file backend writes right after the commit; smtp goes through the job queue.
    MAIL_DELIVER_IN_REQUEST = True
    MAIL_RETRY_BASE_S = 30  # doubles per failed try ...
    MAIL_RETRY_MAX_S = 3600  # ... up to this
    MAIL_MAX_ATTEMPTS = 12
    MAIL_LEASE_S = 120  # a delivery not finished by then is retried (worker killed)
    MAIL_SWEEP_S = 15  # how often the worker looks for due mail
    MAIL_RETENTION_DAYS = 30  # sent rows (bodies already cleared) are then deleted

    # Structured logs: "json" (the production default) or "text".
    LOG_FORMAT = None
    # Reminder mails after a testimonial's last session: healing follow-up invitations
    # and a touch-up reminder (months).
    REMINDER_MONTHS = {"followup_6m": 6, "followup_12m": 12, "touchup_24m": 24}

    PAGE_SIZE = 20
    REVIEWS_PAGE_SIZE = 10
    # Search drains the outbox after each commit; tests can turn it off to
    # exercise the lag path.
    SEARCH_DRAIN_AFTER_COMMIT = True
    SEARCH_TIME_LIMIT_S = 0.5

    # Rendered public pages for anonymous visitors (directory/pagecache.py), keyed
    # by versions written with every change: on unless turned off. URL: a SQLite
    # file (default instance/pagecache.sqlite3) or redis://host:port/db (production).
    PAGE_CACHE = True
    PAGE_CACHE_URL = None
    PAGE_CACHE_TTL_S = 3600
    PAGE_CACHE_MAX_ENTRIES = 20_000
    # Cached pages answered before Flask (pagecache.HitPath); off: through the views.
    PAGE_CACHE_HIT_PATH = True
    # Profile views are added up in each worker and written every few seconds.
    VIEW_COUNT_FLUSH_S = 5.0

    PHOTO_MAX_BYTES = 15 * 1024 * 1024
    PHOTO_MAX_PIXELS = 40_000_000
    PHOTO_WEB_SIZE = 1600
    PHOTO_THUMB_SIZE = 360


class ConfigError(RuntimeError):
    """Start-up refused: the configuration is unsafe or incomplete."""


def finalise(app) -> None:
    """Derive paths from the instance folder and refuse unsafe production settings."""
    cfg = app.config
    inst = app.instance_path
    os.makedirs(inst, exist_ok=True)
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(inst, "directory.sqlite3")
    for key, sub in (("INDEX_DIR", "index"), ("MEDIA_DIR", "media"), ("MAIL_DIR", "mail")):
        if not cfg.get(key):
            cfg[key] = os.path.join(inst, sub)
    if not cfg.get("RATELIMIT_STORAGE_URI"):
        cfg["RATELIMIT_STORAGE_URI"] = "sqlite:///" + os.path.join(inst, "ratelimits.sqlite3")
    if not cfg.get("JOBS_URL") and cfg.get("TESTING"):
        cfg["JOBS_URL"] = "immediate"
    if not cfg.get("LOG_FORMAT"):
        cfg["LOG_FORMAT"] = "json" if cfg.get("PRODUCTION") else "text"
    if cfg.get("PRODUCTION"):
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
    check(cfg)


def check(cfg) -> None:
    relaxed = cfg.get("DEBUG") or cfg.get("TESTING")
    if cfg.get("PRODUCTION") and cfg.get("DEBUG"):
        raise ConfigError("Refusing to start: DEBUG is on with PRODUCTION settings.")
    key = cfg.get("SECRET_KEY")
    if not relaxed and (key in DEFAULT_SECRET_KEYS or len(str(key)) < MIN_SECRET_KEY_LENGTH):
        raise ConfigError(
            "Refusing to start: SECRET_KEY is missing, a default or shorter than "
            f"{MIN_SECRET_KEY_LENGTH} characters. Set DIRECTORY_SECRET_KEY or SECRET_KEY in "
            "instance/config.py (`make run` writes a random one there)."
        )
    if key in (None, ""):
        cfg["SECRET_KEY"] = "insecure-test-key-" + "x" * 32
    check_workers(cfg, int(cfg.get("WORKERS", 1)))
    if cfg.get("PRODUCTION"):
        if cfg.get("MAIL_BACKEND", "file") != "smtp":
            raise ConfigError(
                "Refusing to start: PRODUCTION with the file mail backend would write mail "
                "nobody receives; set DIRECTORY_MAIL_BACKEND=smtp and DIRECTORY_SMTP_HOST."
            )
        if str(cfg.get("JOBS_URL") or "") == "immediate":
            raise ConfigError("Refusing to start: PRODUCTION needs a real job queue (JOBS_URL).")


def check_workers(cfg, workers: int) -> None:
    """Several worker processes each counting in their own memory would multiply
    every limit; refused (gunicorn.conf.py runs this with gunicorn's real count)."""
    if workers > 1 and str(cfg.get("RATELIMIT_STORAGE_URI") or "").startswith("memory"):
        raise ConfigError(
            f"Refusing to start: {workers} workers with the memory rate-limit store would "
            "count each limit once per worker; they need a shared rate-limit store: leave "
            "DIRECTORY_RATELIMIT_STORAGE_URI unset (a SQLite file) or set redis://127.0.0.1:6379."
        )
