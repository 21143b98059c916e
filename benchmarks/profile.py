"""Where a page's time goes: in-process timings, SQL statements per page and a
pyinstrument breakdown by category, for the home, search, clinic, testimonials
and results pages, with the page cache off and on.

Runs on a database built by `benchmarks.run` (same BENCH_* variables):

    BENCH_CLINICS=2000 BENCH_REVIEWS=50000 BENCH_SKIP_HTTP=1 python -m benchmarks.run
    BENCH_CLINICS=2000 BENCH_REVIEWS=50000 python -m benchmarks.profile

pyinstrument is not a project dependency: `pip install pyinstrument` first
(without it the timings and query counts are still printed).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.run import ROOT, config, pct, query_mix

# Innermost match wins: a lazy load fired from a template counts as SQL.
CATEGORIES = (
    ("SQL (driver)", ("sqlite3", "psycopg", "default.py:do_execute")),
    ("session and login", ("flask/sessions.py", "flask_login/", "itsdangerous/")),
    ("snippets", ("directory/search/__init__.py:highlight", "directory/search/__init__.py:_stem")),
    ("search (index)", ("whoosh/", "directory/search/")),
    ("score explanation", ("directory/quality.py", "directory/services/scores.py")),
    ("page cache", ("directory/pagecache.py",)),
    ("templates", ("jinja2/", "templates/", "markupsafe/", "flask/templating.py")),
    ("ORM loading", ("sqlalchemy/orm/",)),
    ("SQLAlchemy core", ("sqlalchemy/",)),
    ("Flask and Werkzeug", ("flask/", "werkzeug/", "flask_", "wtforms/")),
    ("site code", ("directory/",)),
)


def category(frame) -> str | None:
    where = f"{frame.file_path or ''}:{frame.function or ''}"
    for name, needles in CATEGORIES:
        if any(n in where for n in needles):
            return name
    return None


def breakdown(root) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)

    def walk(frame, inherited):
        cat = category(frame) or inherited
        child_time = sum(c.time for c in frame.children)
        out[cat or "other"] += max(0.0, frame.time - child_time)
        for child in frame.children:
            walk(child, cat)

    walk(root, None)
    return out


def page_paths(app, mix: list[dict] | None = None, n_clinics: int = 60) -> dict[str, list[str]]:
    from urllib.parse import urlencode

    from directory.extensions import db
    from directory.models import Clinic

    with app.app_context():
        slugs = list(
            db.session.execute(
                db.select(Clinic.slug)
                .where(Clinic.status == "listed", Clinic.review_count > 0)
                .limit(n_clinics)
            ).scalars()
        )
    search = []
    for q in mix or query_mix()[:60]:
        args = {
            "q": q.get("text"),
            "place": q.get("place"),
            "radius": q.get("radius_km"),
            "service": q.get("service"),
            "country": q.get("country"),
            "max_price": q.get("max_price"),
            "sort": q.get("sort"),
            "women": "1" if q.get("women") else None,
            "page": q.get("page"),
        }
        search.append("/search?" + urlencode({k: v for k, v in args.items() if v}))
    return {
        "home": ["/"],
        "search": search,
        "clinic": [f"/clinics/{s}" for s in slugs],
        "testimonials": [f"/clinics/{s}/reviews" for s in slugs],
        "results": [f"/clinics/{s}/results" for s in slugs],
    }


def count_statements(app):
    from sqlalchemy import event

    from directory.extensions import db

    from directory import database

    counter = {"n": 0}
    with app.app_context():
        engine = db.engine

    def on_execute(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            counter["n"] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    return _Counted(counter, database.RAW_STATEMENTS)


class _Counted:
    """Statements through SQLAlchemy plus those on the page cache's raw connection."""

    def __init__(self, counter, raw):
        self.counter, self.raw = counter, raw

    def __getitem__(self, _key):
        return self.counter["n"] + self.raw[0]


def answered(app, paths: dict) -> dict:
    """The paths that answer 200 (deep search pages past the last one are 404s)."""
    client = app.test_client()
    return {k: [u for u in urls if client.get(u).status_code == 200] for k, urls in paths.items()}


def in_process_pages(instance: Path, cache: bool, paths: dict, rounds: int = 2) -> dict:
    """{page: (p50 ms, SQL statements per request)}, one request at a time, warm."""
    from directory import create_app

    app = create_app({**config(instance), "PAGE_CACHE": cache})
    client = app.test_client()
    statements = count_statements(app)
    out = {}
    for name, urls in paths.items():
        for url in urls:  # warm: searcher, templates, the cache itself
            assert client.get(url).status_code == 200, url
        times, counts = [], []
        for _ in range(rounds):
            for url in urls:
                before = statements["n"]
                t = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                counts.append(statements["n"] - before)
        out[name] = (pct(times, 50), statistics.mean(counts))
    return out


def main() -> None:
    n_clinics = int(os.environ.get("BENCH_CLINICS", 20_000))
    n_reviews = int(os.environ.get("BENCH_REVIEWS", 500_000))
    rounds = int(os.environ.get("PROFILE_ROUNDS", 3))
    base = Path(os.environ.get("BENCH_DIR", "/tmp/smp-bench"))
    instance = base / f"c{n_clinics}-r{n_reviews}"
    if not (instance / "directory.sqlite3").exists():
        sys.exit(f"No benchmark database in {instance}: run benchmarks.run first.")
    sys.path.insert(0, str(ROOT))
    from directory import create_app

    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None

    from benchmarks.run import migrate

    migrate(create_app(config(instance)))
    print(f"In-process profile: {n_clinics:,} clinics, {n_reviews:,} testimonials\n")
    for cache in (False, True):
        app = create_app({**config(instance), "PAGE_CACHE": cache})
        client = app.test_client()
        paths = answered(app, page_paths(app))
        figures = in_process_pages(instance, cache, paths, rounds)
        print(f"== page cache {'on' if cache else 'off'} ==")
        print(f"  {'page':14} {'p50 ms':>7} {'SQL/page':>9}")
        for name, (p50, sql) in figures.items():
            print(f"  {name:14} {p50:7.2f} {sql:9.1f}")
        if Profiler is None:
            continue
        profiles = {}
        for name, urls in paths.items():
            for url in urls:
                client.get(url)
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(max(rounds, 60 // len(urls))):  # at least 60 requests a page
                for url in urls:
                    client.get(url)
            profiler.stop()
            profiles[name] = breakdown(profiler.last_session.root_frame())
        cats = [c for c, _ in CATEGORIES] + ["other"]
        print("\n  share of in-process time (pyinstrument; innermost category wins)")
        print("  " + f"{'category':20}" + "".join(f"{n[:12]:>13}" for n in profiles))
        for cat in cats:
            row = [profiles[n].get(cat, 0.0) / (sum(profiles[n].values()) or 1) for n in profiles]
            if max(row) >= 0.005:
                print("  " + f"{cat:20}" + "".join(f"{v * 100:12.1f}%" for v in row))
        print()


if __name__ == "__main__":
    main()
