"""Time moderation pages with many items waiting (in process, Flask test client).

Builds a SQLite database with BENCH_PENDING pending testimonials (default 10,000)
spread over 200 clinics, stores their signals as submission does (services.risk),
then times the testimonial queue (riskiest first — the default —, its last page,
oldest first, filtered by a signal, by clinic) and the dashboard: p50 and p95 over
BENCH_ROUNDS requests.

    python -m benchmarks.moderation_queue
    BENCH_PENDING=2000 BENCH_ROUNDS=10 python -m benchmarks.moderation_queue
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from directory import create_app
from directory.demo import CITIES
from directory.extensions import db
from directory.models import Clinic, QueueRisk, Review, User
from directory.services import risk

PENDING = int(os.environ.get("BENCH_PENDING", "10000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
# About 1,600 made-up words: texts differ as real testimonials do (a tiny vocabulary
# would make every text a near-duplicate of every other).
SYLLABLES = "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu".split()
SYLLABLES += "na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu".split()
WORDS = [a + b for a in SYLLABLES for b in SYLLABLES]


def text(rng: random.Random) -> str:
    """Testimonial-like text: different for every item, as real ones are."""
    return " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "."


def build(app) -> User:
    now = datetime.now(UTC)
    rng = random.Random(7)
    with app.app_context():
        db.create_all()
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"u{i}@bench.test",
                    "password_hash": "x",
                    "display_name": f"User {i}",
                    "role": "consumer",
                    "session_token": f"tok-{i}",
                    "created_at": now - timedelta(days=100),
                    "email_verified_at": now - timedelta(days=90),
                }
                for i in range(PENDING)
            ],
        )
        db.session.execute(
            insert(Clinic),
            [
                {
                    "slug": f"clinic-{i}",
                    "name": f"Clinic {i}",
                    # Spread over the demo's cities, as real clinics are.
                    "city": CITIES[i % len(CITIES)][0],
                    "country": CITIES[i % len(CITIES)][2],
                    "status": "listed",
                    "services": ["full_scalp"],
                    "languages": ["English"],
                    "currency": "GBP",
                    "created_at": now - timedelta(days=400),
                }
                for i in range(200)
            ],
        )
        db.session.execute(
            insert(Review),
            [
                {
                    "clinic_id": 1 + i % 200,
                    "author_id": 1 + i,
                    "treatment_type": "full_scalp",
                    "sessions": 3,
                    "last_session_month": date(2026, 1, 1),
                    "overall": 1 + i % 5,
                    "text": text(rng),
                    "status": "pending",
                    "origin_hash": f"o{i % 500}",
                    "created_at": now - timedelta(minutes=PENDING - i),
                    "updated_at": now,
                }
                for i in range(PENDING)
            ],
        )
        moderator = User(
            email="mod@bench.test",
            password_hash="x",
            display_name="Bench Moderator",
            role="moderator",
        )
        db.session.add(moderator)
        db.session.commit()
        return moderator.session_token


def timed(client, url: str) -> list[float]:
    assert client.get(url).status_code == 200, url  # warm-up, and a check
    out = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        resp = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, url
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": False,
                "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnop",
                "INSTANCE_PATH": str(Path(tmp) / "instance"),
                "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(Path(tmp) / "bench.sqlite3"),
                "RATELIMIT_ENABLED": False,
                "CANONICAL_URL": "http://localhost",
                "TRUSTED_HOSTS": None,
            }
        )
        start = time.perf_counter()
        token = build(app)
        print(f"built {PENDING} pending testimonials in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        with app.app_context():
            # What submission does item by item (services.risk), here for the bulk insert.
            risk.refresh_waiting()
            db.session.commit()
            flagged = db.session.execute(
                select(func.count()).select_from(QueueRisk).where(QueueRisk.risk > 0)
            ).scalar_one()
        print(f"stored their signals in {time.perf_counter() - start:.1f} s ({flagged} flagged)")
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = token
            sess["_fresh"] = True
            sess["mfa_ok"] = token
        last = (PENDING + 24) // 25
        for url in (
            "/moderation/reviews",
            f"/moderation/reviews?page={last}",
            "/moderation/reviews?order=oldest",
            "/moderation/reviews?signal=shared_origin",
            "/moderation/reviews?order=newest&clinic=7",
            "/moderation/",
        ):
            times = timed(client, url)
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
            print(f"{url:45s} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
