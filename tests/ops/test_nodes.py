"""Several web nodes on one database, each with its own local index: the outbox
is a shared log and each index keeps its own cursor, so a change committed
through one node is found by a search on the other at once."""

from __future__ import annotations

import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from directory import search, services
from directory.extensions import db
from directory.models import Clinic, SearchOutbox
from directory.search import indexer
from tests.factories import ClinicFactory
from tests.ops.servers import Proc, gunicorn, wait_http, wait_until, worker


def search_html(base: str, q: str) -> str:
    url = f"{base}/search?" + urllib.parse.urlencode({"q": q})
    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310
        return r.read().decode()


def test_two_nodes_with_their_own_indexes_converge(app_factory, tmp_path):
    app = app_factory()  # node A's settings (its index folder)
    with app.app_context():
        clinic = ClinicFactory(description="Plain studio.")
        db.session.commit()
        cid, slug = clinic.id, clinic.slug
    dir_a = app.config["INDEX_DIR"]
    dir_b = str(tmp_path / "node-b" / "index")
    with app.app_context():
        indexer.rebuild(dir_a)
        indexer.rebuild(dir_b)

    node_a, base_a = gunicorn(app, tmp_path, workers=1, name="node-a")
    node_b, base_b = gunicorn(app, tmp_path, workers=1, name="node-b", DIRECTORY_INDEX_DIR=dir_b)
    procs: list[Proc] = [node_a, node_b]
    try:
        wait_http(base_a, node_a)
        wait_http(base_b, node_b)
        assert "Plain studio" not in search_html(base_b, "marmotwhisker")

        # The change is committed on node A (its in-request drain updates index A).
        with app.test_request_context("/manage", method="POST"):
            c = db.session.get(Clinic, cid)
            c.description = "Studio known for marmotwhisker hairlines."
            search.mark_dirty(cid)
            services.commit()
            db.session.remove()
        with app.app_context():
            assert indexer.pending_count(dir_a) == 0
            assert indexer.pending_count(dir_b) == 1  # node B has not seen it yet
        # The first search on node B already finds it (catch-up before the search).
        assert slug in search_html(base_b, "marmotwhisker")
        assert slug in search_html(base_a, "marmotwhisker")
        with app.app_context():
            assert indexer.pending_count(dir_b) == 0
            # The log keeps the row for other nodes: applying is not deleting.
            assert db.session.execute(select(func.count(SearchOutbox.id))).scalar() == 1

        # Without any search, node B's worker drains its own index in the background.
        wb = worker(
            app, tmp_path, name="worker-b", args=("--no-periodic",), DIRECTORY_INDEX_DIR=dir_b
        )
        procs.append(wb)
        with app.app_context():
            ClinicFactory(description="A new quolltail studio.")
            db.session.flush()
            new_id = db.session.execute(select(func.max(Clinic.id))).scalar()
            search.mark_dirty(new_id)
            db.session.commit()  # no in-request drain: a third writer
            target = db.session.execute(select(func.max(SearchOutbox.id))).scalar()
        wait_until(lambda: indexer.read_cursor(dir_b) >= target, 60, "node B's worker drain")
        with app.app_context():
            assert indexer.check(dir_b).ok
    finally:
        for p in procs:
            p.stop()


def test_cursor_waits_behind_a_fresh_gap_and_steps_over_an_old_one():
    now = datetime.now(UTC)
    fresh = now - timedelta(seconds=1)
    old = now - timedelta(seconds=indexer.GAP_GRACE_S + 5)
    # Row 2 is missing: a transaction may still commit it (fresh) ...
    assert indexer._advance(0, [(1, 7, fresh), (3, 7, fresh)], now) == 1
    # ... or it rolled back long ago (old): the cursor moves on.
    assert indexer._advance(0, [(1, 7, old), (3, 7, old)], now) == 3
    assert indexer._advance(5, [(6, 1, fresh), (7, 1, fresh)], now) == 7


def test_rebuild_starts_the_new_index_at_the_current_end_of_the_log(app):
    with app.app_context():
        c = ClinicFactory(description="Logged studio.")
        for _ in range(3):
            search.mark_dirty(c.id)
        db.session.commit()
        d = app.config["INDEX_DIR"]
        indexer.rebuild(d)
        assert indexer.read_cursor(d) == 3
        assert indexer.pending_count(d) == 0
        assert not indexer.has_pending(d)


def test_prune_deletes_only_rows_past_their_retention(app):
    with app.app_context():
        c = ClinicFactory()
        search.mark_dirty(c.id)
        db.session.commit()
        db.session.execute(
            db.update(SearchOutbox).values(created_at=datetime.now(UTC) - timedelta(days=8))
        )
        search.mark_dirty(c.id)
        db.session.commit()
        assert indexer.prune_outbox() == 1
        db.session.commit()
        assert db.session.execute(select(func.count(SearchOutbox.id))).scalar() == 1
