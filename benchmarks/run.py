"""`make bench`: the search and page benchmark of docs/performance.md.

Builds a synthetic database (BENCH_CLINICS clinics, BENCH_REVIEWS published
testimonials; defaults 20,000 and 500,000) with bulk inserts, times the full
index rebuild, runs a fixed mix of realistic queries in process (p50/p95/p99),
then serves the site with gunicorn (2 sync workers) beside a minimal 20-item
page served the same way and measures both with wrk, printing the ratios.

    BENCH_CLINICS=2000 BENCH_REVIEWS=50000 python -m benchmarks.run
    BENCH_DIR=/tmp/bench (kept between runs; BENCH_REUSE=1 skips the build)
    BENCH_WRK_SECONDS=10 (per page; BENCH_SLOTS=5 slots each)  BENCH_SKIP_HTTP=1
    BENCH_PAGES=home,search BENCH_CACHE=on|off (some pages only: a quicker look)
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from directory.demo import CITIES as DEMO_CITIES

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-0123456789abcdefghijklmnop"

# The demo's cities plus a few more, so the benchmark spreads over more places.
CITIES = [
    *DEMO_CITIES,
    ("Leeds", "England", "GB", 53.8008, -1.5491, "GBP"),
    ("Glasgow", "Scotland", "GB", 55.8642, -4.2518, "GBP"),
    ("Lyon", "Auvergne-Rhône-Alpes", "FR", 45.764, 4.8357, "EUR"),
    ("Munich", "Bavaria", "DE", 48.1351, 11.582, "EUR"),
    ("Barcelona", "Catalonia", "ES", 41.3874, 2.1686, "EUR"),
    ("Rome", "Lazio", "IT", 41.9028, 12.4964, "EUR"),
    ("Dallas", "Texas", "US", 32.7767, -96.797, "USD"),
    ("Seattle", "Washington", "US", 47.6062, -122.3321, "USD"),
]
SERVICES = ["full_scalp", "hairline", "density", "scar", "correction", "removal"]
TOPIC = (
    "scalp micropigmentation hairline pigment dots density shaved stubble buzz cut "
    "natural realistic healed session sessions practitioner consultation aftercare "
    "camouflage scar transplant alopecia thinning crown temple colour shade layering "
    "fading touch-up laser removal correction rescue blurring blue green shift depth "
    "needle studio clinic artist result results confidence balding norwood ludwig women "
    "long hair texture follicle ink skin sensitive painless professional hygiene"
).split()
FILLER = (
    "the a and was were very really so it my i we they after before during about with "
    "for from on in at of to this that first second third week month year time team "
    "great good happy recommend again would definitely honest friendly clean booked "
    "price value worth looked look looks feel felt people noticed nobody everyone "
    "mirror photo photos friends family work job daily morning sun summer winter"
).split()
FIRST = (
    "Atelier Halo Pixel Cedar Keystone Pointe Fineline Harbour Rescue Budget Precision "
    "Summit Northern Urban Elite Crown Legacy Vertex Prime Studio True Clear Bold Native "
    "Apex Nova Orbit Zenith Alpha"
).split()
SECOND = ("SMP Scalp Follicle Pigment Micropigmentation Hairline Ink Dot Stubble Density").split()
THIRD = "Studio Clinic Lab Works Artistry Co Collective House Room Atelier".split()
PRACT = (
    "Alex Sam Jordan Taylor Morgan Casey Jamie Robin Chris Lee Noor Aisha Mateo Lucia "
    "Kenji Ravi Omar Sofia Liam Emma Hugo Nina"
).split()
SURN = (
    "Smith Jones Garcia Müller Rossi Dubois Silva Kowalski Nguyen Kim Tanaka Patel "
    "Okafor Haddad Larsen Novak Ivanova Costa Brown Wilson"
).split()


def words(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        out.append(rng.choice(TOPIC) if rng.random() < 0.35 else rng.choice(FILLER))
    return " ".join(out).capitalize() + "."


def config(instance: Path) -> dict:
    return {
        "SECRET_KEY": SECRET,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(instance / "directory.sqlite3"),
        "RATELIMIT_ENABLED": False,
        "SEARCH_SYNC_REBUILD_MAX": 10**9,
    }


def migrate(app) -> None:
    """Bring a kept benchmark database up to the current schema."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "directory" / "migrations"))


def build_database(app, n_clinics: int, n_reviews: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from directory.extensions import db
    from directory.models import Clinic, Practitioner, Review, User

    rng = random.Random(2026)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade(directory=str(ROOT / "directory" / "migrations"))
        engine = db.engine
        started = time.perf_counter()
        n_users = max(200, n_reviews // 20)
        per_clinic = max(1, n_reviews // n_clinics)
        with engine.begin() as conn:
            conn.execute(
                insert(User.__table__),
                [
                    {
                        "email": f"bench{i}@example.com",
                        "password_hash": "x",
                        "role": "consumer",
                        "display_name": f"Bench {i}",
                        "session_token": f"tok{i:012d}",
                        "created_at": now,
                    }
                    for i in range(n_users)
                ],
            )
        clinics = []
        for i in range(n_clinics):
            city = CITIES[i % len(CITIES)]
            name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(THIRD)} {i}"
            svcs = sorted(rng.sample(SERVICES, rng.randint(1, 4)))
            lo = rng.choice([800, 1000, 1200, 1500, 1800, 2000, 2500, 3000, 3500])
            rated = rng.random() < 0.85
            clinics.append(
                {
                    "slug": f"bench-clinic-{i}",
                    "name": name,
                    "description": f"{name} is a scalp micropigmentation studio in {city[0]}. "
                    + words(rng, 80),
                    "city": city[0],
                    "region": city[1],
                    "country": city[2],
                    "latitude": city[3] + rng.uniform(-0.4, 0.4),
                    "longitude": city[4] + rng.uniform(-0.4, 0.4),
                    "services": svcs,
                    "languages": ["English"],
                    "price_min": lo,
                    "price_max": lo + rng.choice([500, 1000, 1500]),
                    "currency": "USD",
                    "status": "listed" if rng.random() < 0.97 else "suspended",
                    "quality_score": round(rng.uniform(1.5, 4.9), 3) if rated else None,
                    "review_count": per_clinic if rated else 0,
                    "effective_weight": 1.0,
                    "verified_count": 0,
                    "correction_count": 0,
                    "healed_count": 0,
                    "result_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Clinic.__table__), clinics)
            conn.execute(
                insert(Practitioner.__table__),
                [
                    {
                        "clinic_id": c + 1,
                        "name": f"{rng.choice(PRACT)} {rng.choice(SURN)}",
                        "created_at": now,
                        "effective_weight": 0.0,
                        "review_count": 0,
                    }
                    for c in range(n_clinics)
                    for _ in range(rng.randint(1, 3))
                ],
            )
        print(
            f"  {n_clinics:,} clinics, {n_users:,} users in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        batch = []
        made = 0
        month = date.today().replace(day=1)
        for c in range(n_clinics):
            for j in range(per_clinic):
                if made >= n_reviews:
                    break
                when = now - timedelta(days=rng.randint(1, 1500))
                batch.append(
                    {
                        "clinic_id": c + 1,
                        "author_id": (c * 7 + j) % n_users + 1,
                        "treatment_type": "full_scalp",
                        "sessions": 3,
                        "last_session_month": month,
                        "overall": rng.randint(1, 5),
                        "needed_correction": False,
                        "text": words(rng, rng.randint(60, 120)),
                        "status": "published",
                        "hidden_pending_report": False,
                        "created_at": when,
                        "updated_at": when,
                        "published_at": when,
                    }
                )
                made += 1
            if len(batch) >= 20_000:
                with engine.begin() as conn:
                    conn.execute(insert(Review.__table__), batch)
                batch = []
        if batch:
            with engine.begin() as conn:
                conn.execute(insert(Review.__table__), batch)
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        print(
            f"  {made:,} testimonials; database built in {time.perf_counter() - started:.1f} s",
            flush=True,
        )


def query_mix(n: int = 240) -> list[dict]:
    """A fixed, realistic mix: words, places, misspellings, filters, each sort, deep pages."""
    rng = random.Random(7)
    misspelt = [
        "hairlne",
        "micropigmentaton",
        "camuflage",
        "desnity",
        "scalpp",
        "pigmnet",
        "treatmnt",
        "stubbel",
        "correcton",
        "realistc",
    ]
    places = [
        "London",
        "Manchster",
        "Paris",
        "Berlin",
        "New York",
        "Los Angeles",
        "Sydney",
        "Toronto",
        "Madrid",
        "Milan",
        "Lonndon",
        "Chicago",
        "Dubai",
        "Tokyo",
    ]
    mix: list[dict] = []
    for i in range(n):
        kind = i % 12
        q: dict = {}
        if kind == 0:
            q["text"] = rng.choice(TOPIC)
        elif kind == 1:
            q["text"] = f"{rng.choice(TOPIC)} {rng.choice(TOPIC)}"
        elif kind == 2:
            q["text"] = rng.choice(misspelt)
        elif kind == 3:
            q["place"] = rng.choice(places)
            q["radius_km"] = rng.choice([25, 50, 100])
        elif kind == 4:
            q["place"] = rng.choice(places)
            q["radius_km"] = 100
            q["sort"] = "distance"
            q["text"] = rng.choice(TOPIC)
        elif kind == 5:
            q["service"] = rng.choice(SERVICES)
            q["max_price"] = rng.choice([1000, 1500, 2000, 3000])
        elif kind == 6:
            q["text"] = rng.choice(TOPIC)
            q["sort"] = "relevance"
        elif kind == 7:
            q["sort"] = "reviews"
            q["country"] = rng.choice(["GB", "US", "FR", "DE"])
        elif kind == 8:
            q["page"] = rng.choice([5, 20, 50, 200])
        elif kind == 9:
            q["text"] = rng.choice(FIRST).lower()
            q["women"] = True
        elif kind == 10:
            q["text"] = f"{rng.choice(PRACT)} {rng.choice(SURN)}"
        else:
            q["text"] = "scar camouflage"
            q["place"] = rng.choice(places)
            q["service"] = "scar"
            q["radius_km"] = 250
        mix.append(q)
    return mix


# What visitors type into the search box (read by the query understanding).
TYPED = [
    "smp london",
    "best smp new york",
    "smp uk",
    "scar cover up manchester",
    "smp for women paris",
    "smp londn",
    "smp los angelas",
    "smp nyc",
    "smp sao paulo",
    "hair tattoo toronto",
    "top rated scalp micropigmentation clinic in berlin",
    "fix bad smp chicago",
    "laser removal munich",
    "atlas smp studio",
    "kenji tanaka",
    "smp deutschland",
    "reading smp",
    "nice hairline",
    "hairline camuflage",
    "smp mexico city",
]


def typed_mix() -> list[dict]:
    return [{"text": t} for t in TYPED] + [{"text": t, "sort": "relevance"} for t in TYPED]


def hostile_mix() -> list[dict]:
    from tests.search.test_hostile_queries import HOSTILE

    return [{"text": q[:200], "sort": s} for q in HOSTILE for s in ("quality", "relevance")]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def in_process(app, mix: list[dict]) -> dict:
    from directory import search
    from directory.services import search as search_service

    with app.app_context():
        resolved = []
        for q in mix:
            q = dict(q)
            if "place" in q:
                q["place"] = search.resolve_place(q["place"])
            resolved.append(search.Query(**q))
        search_service.find(resolved[0])  # open the searcher, load the gazetteer
        first_ms, second_ms = [], []
        for q in resolved:  # per-term caches cold, as after an index change
            t = time.perf_counter()
            search_service.find(q)
            first_ms.append((time.perf_counter() - t) * 1000)
        for q in resolved:  # a warm worker
            t = time.perf_counter()
            search_service.find(q)
            second_ms.append((time.perf_counter() - t) * 1000)
    return {"first pass (cold term caches)": first_ms, "second pass (warm worker)": second_ms}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(module: str, env: dict, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            # gunicorn.conf.py (read from the working directory) asks for 4 threads,
            # which turns "sync" into gthread; the benchmark's workers are sync.
            "--threads",
            "1",
            "--timeout",
            "120",
            module,
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{module} did not start; see {log}")


LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk(url: str, paths: list[str], seconds: int, workdir: Path) -> dict:
    script = workdir / f"paths-{abs(hash(tuple(paths)))}.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def lat(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": rps,
        "p50": lat("50"),
        "p99": lat("99"),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def worker_cpu_s(master: subprocess.Popen) -> float:
    """CPU seconds (user and system) the gunicorn master's workers have used so far."""
    pids = subprocess.run(
        ["pgrep", "-P", str(master.pid)], capture_output=True, text=True
    ).stdout.split()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measured(master: subprocess.Popen, url: str, paths: list[str], seconds: int, workdir: Path):
    """wrk's figures plus the workers' CPU per request over the run (from /proc: a
    figure the machine's other load moves much less than requests per second)."""
    before = worker_cpu_s(master)
    out = wrk(url, paths, seconds, workdir)
    out["cpu_ms"] = (worker_cpu_s(master) - before) * 1000 / max(1, out["requests"])
    return out


FLOOR = "search, no words"

# Cache off / cache on targets, as ratios to the minimal page (issue "Pages at the
# speed of the framework"); the testimonials and results pages share the clinic's.
TARGETS = {
    "home": (0.3, 0.8),
    "search": (0.15, 0.5),
    "clinic": (0.15, 0.5),
    "testimonials": (0.15, 0.5),
    "results": (0.15, 0.5),
}


def http(instance: Path, app, mix: list[dict], seconds: int) -> None:
    from benchmarks.profile import answered, in_process_pages, page_paths

    paths = answered(app, page_paths(app, mix=mix[:120], n_clinics=100))
    # The search pages without words or a place (filters, sorts, deep pages): the
    # engine does next to nothing, so they show what a results page costs around
    # it (cards, facets, pager, forms, framework): search's floor, without a target.
    paths[FLOOR] = [p for p in paths["search"] if "q=" not in p and "place=" not in p]
    # A quicker look at some pages: BENCH_PAGES=home,clinic BENCH_CACHE=on (or off).
    if os.environ.get("BENCH_PAGES"):
        wanted = os.environ["BENCH_PAGES"].split(",")
        paths = {name: urls for name, urls in paths.items() if name in wanted}
    modes = {"on": (True,), "off": (False,)}.get(os.environ.get("BENCH_CACHE", ""), (False, True))
    inproc = {cache: in_process_pages(instance, cache, paths) for cache in modes}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORY_")}
    env.update(
        {
            "DIRECTORY_INSTANCE_PATH": str(instance),
            "DIRECTORY_SECRET_KEY": SECRET,
            "DIRECTORY_RATELIMIT_ENABLED": "false",
            "DIRECTORY_TRUSTED_HOSTS": json.dumps(["127.0.0.1", "localhost"]),
            "DIRECTORY_PAGE_CACHE_URL": str(instance / "bench-pagecache.sqlite3"),
        }
    )
    ref_port = free_port()
    ref = serve("benchmarks.minimal:app", env, ref_port, instance / "gunicorn-ref.log")
    ref_url = f"http://127.0.0.1:{ref_port}"
    slots = max(1, int(os.environ.get("BENCH_SLOTS", 5)))
    slot_s = max(2, seconds // slots)
    results: dict[tuple[str, bool], dict] = {}
    # Each page is measured in `slots` short slots, each right after a slot of the
    # minimal page; its ratio is the median of the slot ratios. On a shared machine
    # the load changes within a run, and a ratio is only fair between neighbours in
    # time: a load spike moves one slot, not the page's figure.
    ratios: dict[tuple[str, bool], float] = {}
    references: list[dict] = []
    try:
        for cache in modes:
            for suffix in ("", "-wal", "-shm"):
                Path(str(instance / "bench-pagecache.sqlite3") + suffix).unlink(missing_ok=True)
            site_port = free_port()
            site = serve(
                "wsgi:app",
                {**env, "DIRECTORY_PAGE_CACHE": json.dumps(cache)},
                site_port,
                instance / f"gunicorn-site-{cache}.log",
            )
            try:
                base = f"http://127.0.0.1:{site_port}"
                # Warm both workers (searcher, gazetteer, templates) and, with the
                # cache on, fill it: the figures are for a warm site.
                for urls in paths.values():
                    for p in urls:
                        for _ in range(2):
                            urllib.request.urlopen(base + p, timeout=60).read()
                for name, urls in paths.items():
                    pairs = []
                    for _ in range(slots):
                        before = measured(ref, ref_url, ["/"], slot_s, instance)
                        pairs.append((before, measured(site, base, urls, slot_s, instance)))
                    references.extend(before for before, _ in pairs)
                    ratios[(name, cache)] = statistics.median(
                        page["rps"] / before["rps"] for before, page in pairs
                    )
                    results[(name, cache)] = {
                        key: statistics.median(page[key] for _, page in pairs)
                        for key in ("rps", "p50", "p99", "cpu_ms")
                    } | {"non2xx": sum(page["non2xx"] for _, page in pairs)}
            finally:
                site.send_signal(signal.SIGTERM)
                site.wait(30)
    finally:
        ref.send_signal(signal.SIGTERM)
        ref.wait(30)
    ref_rps = [r["rps"] for r in references]
    reference = {
        key: statistics.median(r[key] for r in references)
        for key in ("rps", "p50", "p99", "cpu_ms")
    }
    print(
        f"\nHTTP (gunicorn, 2 sync workers; wrk -t2 -c16; page cache off, then on and warm). "
        f"Each page in {slots} slots of {slot_s} s, each right after {slot_s} s of the "
        "minimal page; req/s, p50 and p99 are the slots' medians, the ratio the median of "
        "the slots' ratios. In process: one request at a time through the test client, "
        "p50 and SQL statements per page (BEGIN not counted). CPU/req: the gunicorn "
        "workers' CPU per request while wrk ran (from /proc), and the minimal page's "
        "divided by it (a CPU ratio, which the machine's other load moves less)."
    )
    print(
        f"The minimal page over the run: {min(ref_rps):.0f}–{max(ref_rps):.0f} req/s "
        f"(median {reference['rps']:.0f})."
    )
    print(
        f"  {'page':28} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}  {'target':14}"
        f" {'in-proc p50':>11} {'SQL/page':>8} {'CPU/req':>8} {'CPU ratio':>9}"
    )
    print(
        f"  {'minimal 20-item page':28} {reference['rps']:8.1f} {reference['p50']:7.1f} "
        f"{reference['p99']:7.1f} {1:6.3f}  {'':14} {'':11} {'':8} "
        f"{reference['cpu_ms']:5.2f} ms {1:9.3f}"
    )
    for cache in modes:
        for name in paths:
            r = results[(name, cache)]
            ratio = ratios[(name, cache)]
            if name in TARGETS:
                target = TARGETS[name][cache]
                verdict = f"≥ {target:.2f} {'met' if ratio >= target else 'NOT met'}"
            else:
                verdict = "(no target)"
            p50, sql = inproc[cache][name]
            bad = f"  ({r['non2xx']} non-2xx)" if r["non2xx"] else ""
            label = f"{name} (cache {'on' if cache else 'off'})"
            cpu_ratio = reference["cpu_ms"] / r["cpu_ms"] if r["cpu_ms"] else 0.0
            print(
                f"  {label:28} {r['rps']:8.1f} {r['p50']:7.1f} {r['p99']:7.1f} {ratio:6.3f}  "
                f"{verdict:14} {p50:8.2f} ms {sql:8.1f} {r['cpu_ms']:5.2f} ms {cpu_ratio:9.3f}"
                f"{bad}"
            )


def main() -> None:
    n_clinics = int(os.environ.get("BENCH_CLINICS", 20_000))
    n_reviews = int(os.environ.get("BENCH_REVIEWS", 500_000))
    seconds = int(os.environ.get("BENCH_WRK_SECONDS", 10))
    base = Path(os.environ.get("BENCH_DIR", "/tmp/smp-bench"))
    instance = base / f"c{n_clinics}-r{n_reviews}"
    reuse = os.environ.get("BENCH_REUSE") == "1" and (instance / "directory.sqlite3").exists()
    sys.path.insert(0, str(ROOT))
    from directory import create_app
    from directory.search import indexer

    print(
        f"SMP directory benchmark: {n_clinics:,} clinics, {n_reviews:,} testimonials "
        f"({os.cpu_count()} CPUs)",
        flush=True,
    )
    if not reuse:
        shutil.rmtree(instance, ignore_errors=True)
        instance.mkdir(parents=True)
    app = create_app(config(instance))
    if not reuse:
        build_database(app, n_clinics, n_reviews)
    else:
        migrate(app)
    with app.app_context():
        started = time.perf_counter()
        count = indexer.rebuild(app.config["INDEX_DIR"])
        build_s = time.perf_counter() - started
    size = sum(f.stat().st_size for f in Path(app.config["INDEX_DIR"]).resolve().iterdir())
    print(
        f"\nFull index rebuild: {count:,} documents in {build_s:.1f} s "
        f"({size / 1e6:.1f} MB)  target ≤ 300 s: {'met' if build_s <= 300 else 'NOT met'}"
    )

    mix = query_mix()
    times = in_process(app, mix)
    print(
        f"\nIn process, fixed mix of {len(mix)} queries through the search service "
        "(index, SQL re-read, snippets; page of 20 with the exact total):"
    )
    typed = in_process(app, typed_mix())
    times["typed words, cold"] = typed["first pass (cold term caches)"]
    times["typed words, warm"] = typed["second pass (warm worker)"]
    hostile = in_process(app, hostile_mix())
    times["hostile queries, warm"] = hostile["second pass (warm worker)"]
    for label, values in times.items():
        p50, p95, p99 = (pct(values, p) for p in (50, 95, 99))
        print(
            f"  {label:30} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  "
            f"max {max(values):6.1f} ms  mean {statistics.mean(values):5.1f} ms"
        )
        print(
            f"  {'':30} target p95 ≤ 50 ms: {'met' if p95 <= 50 else 'NOT met'}; "
            f"p99 ≤ 100 ms: {'met' if p99 <= 100 else 'NOT met'}"
        )

    # A published testimonial visible in search: commit → drain → searchable.
    with app.app_context():
        from directory import search, services
        from directory.extensions import db
        from directory.models import Clinic

        clinic = db.session.execute(
            db.select(Clinic).where(Clinic.status == "listed").limit(1)
        ).scalar_one()
        started = time.perf_counter()
        clinic.description += " Benchfreshword."
        search.mark_dirty(clinic.id)
        services.commit()
        found = search.engine().run(search.Query(text="benchfreshword")).ids
        lag = time.perf_counter() - started
    print(
        f"\nChange visible in search {lag * 1000:.0f} ms after its commit "
        f"(found: {bool(found)}); target ≤ 1 s: {'met' if found and lag <= 1 else 'NOT met'}"
    )

    if os.environ.get("BENCH_SKIP_HTTP") != "1":
        http(instance, app, mix, seconds)


if __name__ == "__main__":
    main()
