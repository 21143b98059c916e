"""Like-for-like figures on an existing instance (demo data or a benchmark database):

    flask --app directory seed-demo --no-images      # into DIRECTORY_INSTANCE_PATH
    python -m benchmarks.cases

Prints the time to score every public clinic for a case from the cached evidence,
a search page ordered by a case, and a /results gallery page for a case.
"""

from __future__ import annotations

import statistics
import time

from directory import create_app, quality
from directory.services import casescores, gallery
from directory.services import search as search_service

CASES = (
    quality.Case(stage="norwood-6", skin_type=6, hair_colour="black", goal="buzz"),
    quality.Case(stage="ludwig-2", skin_type=2, goal="density"),
    quality.Case(skin_type=4),
)


def line(what: str, p50: float, worst: float) -> None:
    print(f"  {what:<70} p50 {p50:7.1f} ms  max {worst:7.1f} ms")


def timed(fn, repeat: int = 7) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs), max(runs)


def main() -> None:
    app = create_app()
    with app.app_context():
        from sqlalchemy import select

        from directory.extensions import db
        from directory.models import Clinic

        ids = list(db.session.execute(select(Clinic.id)).scalars())
        print(f"Like-for-like on {len(ids)} clinics ({app.config['SQLALCHEMY_DATABASE_URI']})")
        for case in CASES:
            label = casescores.describe(case)
            line(
                f"order every clinic for {label}",
                *timed(lambda c=case: casescores.order_ids(ids, c)),
            )
            query = search_service.Query(sort="case", per_page=20)
            line(
                "search page sorted by the case",
                *timed(lambda c=case: search_service.find(query, case=c)),
            )
            line(
                "/results gallery page for the case",
                *timed(lambda c=case: gallery.gallery({}, c, 1, 20)),
            )
            db.session.rollback()


if __name__ == "__main__":
    main()
