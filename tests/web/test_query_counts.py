"""SQL statements per public page, so they cannot silently grow.

The clinic has twelve published testimonials, each with an author, a
practitioner, a reply and a follow-up, and eight result cases: a page that
loaded any of these one row at a time would exceed its budget at once. The
budgets count statements other than BEGIN, rendering with the page cache off,
then a visitor served from the cache (one small query for the versions; search
also asks whether the index lags). Profile views are buffered, as on the site.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from directory import database
from directory.extensions import db
from directory.models import ClinicReply, FollowUp
from directory.services import scores
from tests.factories import ClinicFactory, PractitionerFactory, ResultCaseFactory, ReviewFactory

# page: (statements rendering it, statements serving it from the cache)
BUDGET = {
    "/": (1, 1),  # the versions; the lists are kept per listings version
    "/search": (2, 1),
    "/search?q=micropigmentation": (2, 1),
    "/clinics/counted": (6, 1),
    "/clinics/counted/reviews": (5, 1),
    "/clinics/counted/reviews?page=2": (5, 1),
    "/clinics/counted/results": (7, 1),  # the gallery's like-for-like parts since the merge
}


def build(app):
    with app.app_context():
        clinic = ClinicFactory(slug="counted", name="Counted Clinic")
        others = [ClinicFactory() for _ in range(5)]
        pract = PractitionerFactory(clinic=clinic)
        for i in range(12):
            r = ReviewFactory(clinic=clinic, practitioner=pract, title=f"Testimonial {i}")
            db.session.add(ClinicReply(review_id=r.id, clinic_id=clinic.id, text="Thank you."))
            db.session.add(
                FollowUp(review_id=r.id, text="Still looks good.", healing=5, status="published")
            )
        for _ in range(8):
            ResultCaseFactory(clinic=clinic, practitioner=pract)
        db.session.commit()
        for c in [clinic, *others]:
            scores.recompute_clinic(c)
        db.session.commit()
        from directory.search import indexer

        indexer.rebuild(app.config["INDEX_DIR"])


def statements(app):
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def on_execute(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    return seen


@pytest.mark.parametrize("cache", [False, True], ids=["cache-off", "cache-on"])
def test_statements_per_page_stay_within_budget(app_factory, cache):
    app = app_factory(PAGE_CACHE=cache, VIEW_COUNT_FLUSH_S=3600)
    build(app)
    client = app.test_client()
    seen = statements(app)
    for path, (render_budget, hit_budget) in BUDGET.items():
        assert client.get(path).status_code == 200, path  # warm (and fill the cache)
        del seen[:]
        raw_before = database.RAW_STATEMENTS[0]
        resp = client.get(path)
        assert resp.status_code == 200
        seen.extend(["(a read on a raw connection)"] * (database.RAW_STATEMENTS[0] - raw_before))
        budget = hit_budget if cache else render_budget
        if cache:
            assert resp.headers["X-Page-Cache"] == "hit", path
        assert len(seen) <= budget, (path, len(seen), [" ".join(s.split())[:90] for s in seen])
