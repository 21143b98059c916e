"""gunicorn settings for `make run` and the systemd unit (`gunicorn -c gunicorn.conf.py wsgi:app`).

Environment: WEB_CONCURRENCY (worker processes, default 2), WEB_THREADS (threads
per worker, default 4), BIND (default 127.0.0.1:8000). The application's
start-up check runs here with gunicorn's real worker count, and the workers
see it as DIRECTORY_WORKERS.
"""

import os
import shutil
import sys
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"

_json = os.environ.get("DIRECTORY_LOG_FORMAT", "").lower() == "json" or os.environ.get(
    "DIRECTORY_PRODUCTION", ""
).lower() in ("1", "true", "yes")
if _json:
    access_log_format = (
        '{"ts":"%(t)s","kind":"access","remote":"%(h)s","forwarded_for":"%({x-forwarded-for}i)s",'
        '"method":"%(m)s","path":"%(U)s","status":%(s)s,"bytes":"%(B)s","ms":%(M)s,'
        '"request_id":"%({x-request-id}o)s","agent":"%(a)s"}'
    )
else:
    access_log_format = (
        '%(t)s %(h)s fwd=%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms '
        'rid=%({x-request-id}o)s "%(a)s"'
    )


def on_starting(server):
    """Run the application's start-up checks once, with the real worker count."""
    os.environ["DIRECTORY_WORKERS"] = str(server.cfg.workers)
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not metrics_dir:
        metrics_dir = os.path.join(tempfile.gettempdir(), f"directory-metrics-{os.getpid()}")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)

    from directory import create_app
    from directory.config import ConfigError

    try:
        create_app()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr, flush=True)
        sys.exit(1)
    # The workers fork from here with the gazetteer loaded: no visitor waits for it.
    from directory.search import gazetteer

    gazetteer.warm()


def child_exit(server, worker):
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
    except Exception:  # noqa: BLE001, S110
        pass
