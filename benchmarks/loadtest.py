"""`make loadtest`: mixed load and faults against the real stack, bounded in time.

Starts gunicorn (gunicorn.conf.py, WEB_CONCURRENCY workers) and the job worker
(`flask worker`) on a fresh database, a fake SMTP server on 127.0.0.1 that
answers slowly (so kills land mid-delivery), then runs virtual users for
--seconds per phase:

- readers: home, search, clinic pages; some register (a verification mail each);
- writers (logged-in consumers): testimonials with a photo upload;
- a moderator (second factor passed): publishes pending testimonials.

Phases: `steady` (no fault), then with --faults: `kill-web` (a random gunicorn
worker gets SIGKILL every second), `kill-jobs` (the job worker gets SIGKILL every
~2 s mid-delivery and is restarted), `kill-index` (a process draining a large
outbox into the index gets SIGKILL at random moments, often mid-commit).

Afterwards it checks: every acknowledged write is in the database, every
committed mail reached the SMTP server exactly once (by Message-ID), and the
search index equals the database. Prints requests, p50, p99 and 5xx per phase.

    python -m benchmarks.loadtest --seconds 20 --faults all
    LOADTEST_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    LOADTEST_REDIS_URI=redis://127.0.0.1:6379/5 python -m benchmarks.loadtest --seconds 10
Exit status 1 when a guarantee fails.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ops.fakesmtp import FakeSMTP  # noqa: E402
from tests.ops.servers import BIN, Client, Proc, free_port, gunicorn_command, wait_until  # noqa: E402

PASSWORD = "load-test-password-2026"
SECRET = "loadtest-secret-key-0123456789abcdefghijkl"
WORDS = ["natural", "hairline", "scar", "density", "london", "toronto", "realistic", "healed"]
TEXT = (
    "The dots look like real stubble up close and from across the room. The hairline "
    "suits my age and the colour has stayed neutral grey without any blue shift. "
)


def tiny_jpeg(seed: int) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    img = Image.new("RGB", (64, 64), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(40):
        x, y = rng.randrange(64), rng.randrange(64)
        img.putpixel((x, y), (rng.randrange(256), 0, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "----loadtest" + os.urandom(8).hex()
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode())
        out.write(str(v).encode() + b"\r\n")
    for name, filename, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------
# Set-up.


class Stack:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="directory-loadtest-"))
        self.inst = self.tmp / "instance"
        self.smtp = FakeSMTP().start()
        self.smtp_delay = 0.15
        self.uri = os.environ.get("LOADTEST_DATABASE_URI")
        self.schema = None
        if self.uri:
            self.schema = f"loadtest_{os.getpid()}"
            sep = "&" if "?" in self.uri else "?"
            self.uri = f"{self.uri}{sep}options=-csearch_path%3D{self.schema}"
        else:
            self.uri = "sqlite:///" + str(self.tmp / "directory.sqlite3")
        redis = os.environ.get("LOADTEST_REDIS_URI")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORY_")}
        self.env.update(
            DIRECTORY_INSTANCE_PATH=str(self.inst),
            DIRECTORY_SECRET_KEY=SECRET,
            DIRECTORY_SQLALCHEMY_DATABASE_URI=self.uri,
            DIRECTORY_MAIL_BACKEND="smtp",
            DIRECTORY_SMTP_PORT=str(self.smtp.port),
            DIRECTORY_SMTP_TIMEOUT_S="10",
            DIRECTORY_MAIL_RETRY_BASE_S="0.5",
            DIRECTORY_MAIL_RETRY_MAX_S="2",
            DIRECTORY_MAIL_LEASE_S="3",
            DIRECTORY_MAIL_SWEEP_S="0.5",
            # Capacity and correctness are measured here, not the abuse limits.
            DIRECTORY_RATELIMIT_ENABLED="false",
            PYTHONUNBUFFERED="1",
        )
        if redis:
            self.env["DIRECTORY_JOBS_URL"] = redis
            self.env["DIRECTORY_RATELIMIT_STORAGE_URI"] = redis
        self.web: Proc | None = None
        self.jobs: Proc | None = None
        self.base = ""

    def app(self):
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("DIRECTORY_")})
        from directory import create_app

        return create_app()

    def prepare(self) -> dict:
        from sqlalchemy import text

        from directory import demo, services
        from directory.extensions import db
        from directory.models import User
        from directory.search import indexer
        from directory.services import accounts

        app = self.app()
        self.flask_app = app
        with app.app_context():
            if self.schema:
                with db.engine.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
                    conn.execute(text(f"CREATE SCHEMA {self.schema}"))
            db.create_all()
            demo.seed(self.args.clinics, 2026, with_images=False, log=lambda *_: None)
            services.commit()
            writers = []
            for i in range(self.args.writers):
                u = accounts.create_user(
                    f"writer{i}@load.test", PASSWORD, "consumer", verified=True
                )
                writers.append(u.email)
            mod = accounts.create_user("mod@load.test", PASSWORD, "moderator", verified=True)
            import pyotp
            from datetime import UTC, datetime

            mod.totp_secret = pyotp.random_base32()
            mod.totp_confirmed_at = datetime.now(UTC)
            secret = mod.totp_secret
            db.session.commit()
            # Demo seeding and account creation staged mail; it goes out first.
            indexer.rebuild(app.config["INDEX_DIR"])
            from directory.models import Clinic
            from directory.vocab import PUBLIC_CLINIC_STATUSES

            slugs = list(
                db.session.execute(
                    db.select(Clinic.slug).where(Clinic.status.in_(PUBLIC_CLINIC_STATUSES))
                ).scalars()
            )
            db.session.execute(db.select(User.id).limit(1))
            db.session.rollback()
        return {"writers": writers, "mod_secret": secret, "slugs": slugs}

    def start_web(self):
        port = free_port()
        env = dict(self.env, WEB_CONCURRENCY=str(self.args.workers), WEB_THREADS="2")
        self.web = Proc(
            gunicorn_command(port),
            env,
            self.tmp / "web.log",
        )
        self.base = f"http://127.0.0.1:{port}"
        import urllib.request

        def up():
            with urllib.request.urlopen(self.base + "/healthz", timeout=5) as r:  # noqa: S310
                return r.status == 200

        wait_until(up, 120, "gunicorn")

    def start_jobs(self, n: int = 0):
        self.jobs = Proc(
            [str(BIN / "flask"), "--app", "directory", "worker", "--no-periodic"],
            self.env,
            self.tmp / f"jobs-{n}.log",
        )

    def web_worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.web.pid)], capture_output=True, text=True, check=False
        )
        return [int(p) for p in out.stdout.split()]

    def stop(self):
        for p in (self.web, self.jobs):
            if p is not None:
                p.stop()
        self.smtp.stop()


# --------------------------------------------------------------------------
# Virtual users.


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.lat: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: dict[str, int] = defaultdict(int)
        self.phase = "setup"
        self.acked_reviews: list[str] = []
        self.acked_users: list[str] = []
        self.acked_decisions: list[int] = []

    def record(self, seconds: float, status: int):
        with self.lock:
            self.lat[self.phase].append(seconds)
            self.status[self.phase][status] += 1

    def error(self):
        with self.lock:
            self.errors[self.phase] += 1


def timed(stats: Stats, fn, *a, **kw):
    started = time.perf_counter()
    try:
        status, headers, body = fn(*a, **kw)
    except Exception:  # noqa: BLE001 - connection reset by a killed worker
        stats.error()
        return None, None, b""
    stats.record(time.perf_counter() - started, status)
    return status, headers, body


def reader(stop, stats: Stats, base: str, slugs: list[str], n: int):
    rng = random.Random(n)
    c = Client(base)
    i = 0
    while not stop.is_set():
        i += 1
        r = rng.random()
        if r < 0.3:
            timed(stats, c.get, "/search?" + urllib.parse.urlencode({"q": rng.choice(WORDS)}))
        elif r < 0.6:
            timed(stats, c.get, f"/clinics/{rng.choice(slugs)}")
        elif r < 0.8:
            timed(stats, c.get, "/")
        elif r < 0.9:
            timed(stats, c.get, f"/search?sort=quality&page={rng.randint(1, 3)}")
        else:
            email = f"reader{n}-{i}-{os.getpid()}@example.com"
            try:
                token = c.csrf("/auth/register")
            except Exception:  # noqa: BLE001
                stats.error()
                continue
            status, _, _ = timed(
                stats,
                c.post,
                "/auth/register",
                {"email": email, "display_name": "Load", "password": PASSWORD, "csrf_token": token},
            )
            if status == 302:
                with stats.lock:
                    stats.acked_users.append(email)
            c = Client(base)  # logged in now: start a fresh anonymous visitor


def login(c: Client, email: str, totp_secret: str | None = None) -> bool:
    try:
        return _login(c, email, totp_secret)
    except Exception:  # noqa: BLE001 - a killed worker: try again
        return False


def _login(c: Client, email: str, totp_secret: str | None) -> bool:
    status, headers, _ = c.post("/auth/login", {"email": email, "password": PASSWORD})
    if status != 302:
        return False
    if totp_secret:
        import pyotp

        code = pyotp.TOTP(totp_secret).now()
        status, _, _ = c.post("/auth/totp", {"code": code})
        return status == 302
    return True


def writer(stop, stats: Stats, base: str, slugs: list[str], email: str, n: int):
    rng = random.Random(1000 + n)
    c = Client(base)
    while not stop.is_set() and not login(c, email):
        time.sleep(0.5)
    order = slugs[:]
    rng.shuffle(order)
    today = time.gmtime()
    for k, slug in enumerate(order):
        if stop.is_set():
            return
        marker = f"loadmark{n}x{k}x{os.getpid()}"
        try:
            token = c.csrf(f"/clinics/{slug}/review")
        except Exception:  # noqa: BLE001
            stats.error()
            continue
        fields = {
            "csrf_token": token,
            "treatment_type": "full_scalp",
            "sessions": "3",
            "last_month": "1",
            "last_year": str(today.tm_year - 1),
            "practitioner_id": "",
            "overall": "4",
            "realism": "4",
            "healing": "4",
            "price_paid": "2000",
            "price_currency": "GBP",
            "text": TEXT + marker,
            "consent": "y",
        }
        body, ctype = multipart(fields, [("photos", "result.jpg", tiny_jpeg(n * 10_000 + k))])
        status, _, _ = timed(
            stats, c.request, "POST", f"/clinics/{slug}/review", body, {"Content-Type": ctype}
        )
        if status == 302:
            with stats.lock:
                stats.acked_reviews.append(marker)
        timed(stats, c.get, f"/clinics/{slug}")


DECIDE = re.compile(r"/moderation/reviews/(\d+)/decide")


def moderator(stop, stats: Stats, base: str, secret: str):
    c = Client(base)
    while not stop.is_set() and not login(c, "mod@load.test", secret):
        time.sleep(1)
    while not stop.is_set():
        status, _, html = timed(stats, c.get, "/moderation/reviews")
        ids = DECIDE.findall(html.decode(errors="replace")) if status == 200 else []
        if not ids:
            stop.wait(0.3)
            continue
        rid = int(ids[0])
        m = re.search(r'name="csrf_token" value="([^"]+)"', html.decode(errors="replace"))
        if not m:
            continue
        status, _, _ = timed(
            stats,
            c.post,
            f"/moderation/reviews/{rid}/decide",
            {
                "csrf_token": m.group(1),
                "action": "publish",
                "reason_code": "meets_guidelines",
                "statement": "Meets our guidelines for first-hand testimonials.",
            },
        )
        if status == 302:
            with stats.lock:
                stats.acked_decisions.append(rid)


# --------------------------------------------------------------------------
# Faults.


def kill_web_workers(stop, stack: Stack, counter: dict):
    while not stop.wait(1.0):
        pids = stack.web_worker_pids()
        if pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(random.choice(pids), signal.SIGKILL)
                counter["web_kills"] += 1


def kill_job_worker(stop, stack: Stack, counter: dict):
    n = 1
    while not stop.wait(random.uniform(1.0, 2.5)):
        was_mid = stack.smtp.busy.is_set()
        stack.jobs.kill(signal.SIGKILL)
        stack.jobs.p.wait(10)
        counter["job_kills"] += 1
        counter["job_kills_mid_delivery"] += int(was_mid)
        stack.start_jobs(n)
        n += 1


INDEX_WRITER = r"""
import os, sys, time
from directory import create_app
from directory.extensions import db
from directory.models import Clinic
from directory.search import indexer, mark_dirty
app = create_app()
with app.app_context():
    ids = list(db.session.execute(db.select(Clinic.id)).scalars())
    while True:
        for cid in ids:
            mark_dirty(cid)
        db.session.commit()
        print("drain", flush=True)
        indexer.try_drain(app.config["INDEX_DIR"], wait_s=5.0, rounds=1000)
"""


def kill_index_writer(stop, stack: Stack, counter: dict):
    lock = os.path.join(os.path.realpath(stack.flask_app.config["INDEX_DIR"]), "MAIN_WRITELOCK")
    n = 0
    while not stop.is_set():
        proc = Proc([sys.executable, "-c", INDEX_WRITER], stack.env, stack.tmp / f"ix-{n}.log")
        n += 1
        # Kill it during its second drain, at a random moment.
        with contextlib.suppress(AssertionError):
            wait_until(lambda p=proc: p.output().count("drain") >= 2, 60, "index writer")
        if stop.wait(random.uniform(0.0, 0.4)):
            proc.stop()
            break
        holding = _locked(lock)
        proc.kill(signal.SIGKILL)
        proc.p.wait(10)
        counter["index_kills"] += 1
        counter["index_kills_holding_writer"] += int(holding)


def _locked(path: str) -> bool:
    """True when another process holds the Whoosh writer lock (fcntl) on path."""
    try:
        fh = open(path, "a+")  # noqa: SIM115
    except OSError:
        return False
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        fh.close()


# --------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run_phase(name, stack: Stack, ctx: dict, stats: Stats, seconds: float, fault=None) -> dict:
    stats.phase = name
    stop = threading.Event()
    threads = [
        threading.Thread(target=reader, args=(stop, stats, stack.base, ctx["slugs"], i))
        for i in range(stack.args.readers)
    ]
    threads += [
        threading.Thread(
            target=writer,
            args=(stop, stats, stack.base, ctx["slugs"], email, i + 100 * len(stats.lat)),
        )
        for i, email in enumerate(ctx["writers"])
    ]
    threads.append(
        threading.Thread(target=moderator, args=(stop, stats, stack.base, ctx["mod_secret"]))
    )
    counter: dict = defaultdict(int)
    if fault:
        threads.append(threading.Thread(target=fault, args=(stop, stack, counter)))
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(60)
    lat = stats.lat[name]
    st = stats.status[name]
    return {
        "phase": name,
        "requests": len(lat),
        "p50_ms": round(pct(lat, 50) * 1000, 1),
        "p99_ms": round(pct(lat, 99) * 1000, 1),
        "5xx": sum(v for k, v in st.items() if k >= 500),
        "conn_errors": stats.errors[name],
        "statuses": dict(sorted(st.items())),
        **counter,
    }


def verify(stack: Stack, stats: Stats) -> dict:
    from sqlalchemy import func, select

    from directory.extensions import db
    from directory.models import OutgoingMail, Review, User
    from directory.search import indexer

    app = stack.flask_app
    out: dict = {}
    with app.app_context():
        # Let the worker finish: mail delivered, outbox applied.
        def settled():
            db.session.rollback()
            left = db.session.execute(
                select(func.count())
                .select_from(OutgoingMail)
                .where(OutgoingMail.status.in_(("pending", "sending")))
            ).scalar()
            return left == 0 and indexer.pending_count(app.config["INDEX_DIR"]) == 0

        try:
            wait_until(settled, 180, "mail and index to settle", interval=0.5)
        except AssertionError as exc:
            out["settle_error"] = str(exc)[:200]
        texts = set(db.session.execute(select(Review.text)).scalars())
        out["acked_reviews"] = len(stats.acked_reviews)
        out["lost_reviews"] = sum(1 for m in stats.acked_reviews if not any(m in t for t in texts))
        emails = set(db.session.execute(select(User.email)).scalars())
        out["acked_registrations"] = len(stats.acked_users)
        out["lost_registrations"] = sum(1 for e in stats.acked_users if e not in emails)
        statuses = dict(
            db.session.execute(
                select(Review.id, Review.status).where(Review.id.in_(stats.acked_decisions))
            ).all()
        )
        out["acked_decisions"] = len(stats.acked_decisions)
        out["lost_decisions"] = sum(
            1 for rid in stats.acked_decisions if statuses.get(rid) not in ("published", "removed")
        )
        rows = list(db.session.execute(select(OutgoingMail.id, OutgoingMail.status)).all())
        ids = stack.smtp.message_ids()
        delivered = defaultdict(int)
        for mid in ids:
            m = re.match(r"<mail-(\d+)\.", mid)
            if m:
                delivered[int(m.group(1))] += 1
        out["mails_committed"] = len(rows)
        out["mails_lost"] = sum(1 for rid, _ in rows if delivered.get(rid, 0) == 0)
        out["mails_duplicated"] = sum(1 for n in delivered.values() if n > 1)
        logs = "".join(
            p.read_text(errors="replace") for p in stack.tmp.glob("*.log") if p.is_file()
        )
        out["database_is_locked_in_logs"] = logs.count("database is locked")
        drift = indexer.check(app.config["INDEX_DIR"])
        out["index_equals_database"] = drift.ok and drift.pending == 0
        out["index_missing"] = len(drift.missing)
        out["index_extra"] = len(drift.extra)
        db.session.rollback()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clinics", type=int, default=40)
    ap.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    ap.add_argument("--readers", type=int, default=6)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument(
        "--faults", default="all", help="none, all, or a comma list: kill-web,kill-jobs,kill-index"
    )
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    faults = (
        []
        if args.faults == "none"
        else ["kill-web", "kill-jobs", "kill-index"]
        if args.faults == "all"
        else args.faults.split(",")
    )
    stack = Stack(args)
    stack.smtp.delay = stack.smtp_delay
    results = []
    try:
        ctx = stack.prepare()
        stack.start_web()
        stack.start_jobs()
        stats = Stats()
        results.append(run_phase("steady", stack, ctx, stats, args.seconds))
        table = {
            "kill-web": kill_web_workers,
            "kill-jobs": kill_job_worker,
            "kill-index": kill_index_writer,
        }
        for f in faults:
            results.append(run_phase(f, stack, ctx, stats, args.seconds, table[f]))
        checks = verify(stack, stats)
    finally:
        stack.stop()
    db = "PostgreSQL" if os.environ.get("LOADTEST_DATABASE_URI") else "SQLite"
    queue = "Redis" if os.environ.get("LOADTEST_REDIS_URI") else "SQLite"
    print(
        f"\nLoad test: {db} database, {queue} job queue and limits, gunicorn "
        f"{args.workers} workers x 2 threads, {args.readers} readers + {args.writers} "
        f"writers + 1 moderator, {args.seconds:.0f} s per phase, {args.clinics} clinics"
    )
    print(
        f"{'phase':<11} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5} "
        f"{'conn err':>8}  faults"
    )
    for r in results:
        extra = {k: v for k, v in r.items() if k.endswith(("kills", "delivery", "writer"))}
        print(
            f"{r['phase']:<11} {r['requests']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} "
            f"{r['5xx']:>5} {r['conn_errors']:>8}  {extra or ''}"
        )
    print("checks:", json.dumps(checks))
    if args.json:
        Path(args.json).write_text(json.dumps({"phases": results, "checks": checks}, indent=1))
    mid_delivery_kills = sum(r.get("job_kills_mid_delivery", 0) for r in results)
    ok = (
        checks.get("lost_reviews") == 0
        and checks.get("lost_registrations") == 0
        and checks.get("lost_decisions") == 0
        and checks.get("mails_lost") == 0
        # SMTP cannot be exactly-once: a job worker killed after the server accepted a
        # message and before its row was marked sent delivers it again on retry, with
        # the same Message-ID (mail clients fold such copies). Each such kill may
        # duplicate the one message in flight, and nothing else may.
        and checks.get("mails_duplicated", 0) <= mid_delivery_kills
        and checks.get("index_equals_database")
        and checks.get("database_is_locked_in_logs") == 0
        and all(r["5xx"] == 0 for r in results if r["phase"] != "kill-web")
    )
    print("RESULT:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
