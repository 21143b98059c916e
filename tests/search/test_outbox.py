"""The outbox keeps the index in step with the database (docs/security.md §30)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select
from whoosh import index as whoosh_index

from directory import search, services
from directory.extensions import db
from directory.models import Clinic, SearchOutbox
from directory.search import Query, indexer
from directory.services import scores
from tests.factories import ClinicFactory, ReviewFactory
from tests.search.conftest import index_dir, rebuild


def outbox_rows(app) -> int:
    """Outbox rows this node's index has not applied (the log itself is shared by
    every node and pruned after its retention, not emptied by a drain)."""
    with app.app_context():
        if not indexer.exists(index_dir(app)):
            return db.session.execute(select(func.count()).select_from(SearchOutbox)).scalar_one()
        return indexer.pending_count(index_dir(app))


def ids_for(app, text: str) -> list[int]:
    with app.app_context():
        return search.engine().run(search.Query(text=text)).ids


def test_commit_drains_the_change_into_the_index_and_empties_the_outbox(app, indexed):
    with app.app_context():
        clinic = ClinicFactory(description="Specialists in quokkamorph pigment blends.")
        search.mark_dirty(clinic.id)
        services.commit()
        cid = clinic.id
    assert ids_for(app, "quokkamorph") == [cid]
    assert outbox_rows(app) == 0


def test_published_testimonial_is_searchable_right_after_its_commit(app, indexed):
    with app.app_context():
        clinic = ClinicFactory()
        ReviewFactory(clinic=clinic, text="My zebrafinch-coloured pigment healed perfectly.")
        scores.recompute_clinic(clinic)
        services.commit()
        cid = clinic.id
    assert ids_for(app, "zebrafinch") == [cid]


def test_pending_review_text_is_never_indexed(app, indexed):
    with app.app_context():
        clinic = ClinicFactory()
        ReviewFactory(clinic=clinic, text="Secret pendingword text.", status="pending")
        scores.recompute_clinic(clinic)
        services.commit()
    assert ids_for(app, "pendingword") == []


def test_drain_is_idempotent(app, indexed):
    with app.app_context():
        clinic = ClinicFactory(description="Idempotentia studio.")
        for _ in range(3):
            search.mark_dirty(clinic.id)
        db.session.commit()  # commit without the drain: rows wait
        cid = clinic.id
    assert outbox_rows(app) == 3
    with app.app_context():
        assert indexer.try_drain(index_dir(app)) == 3
        assert indexer.try_drain(index_dir(app)) == 0
        # Replaying the same change changes nothing.
        search.mark_dirty(cid)
        services.commit()
        drift = indexer.check(index_dir(app))
    assert drift.ok and drift.pending == 0
    assert ids_for(app, "idempotentia") == [cid]
    with app.app_context():
        ix = whoosh_index.open_dir(index_dir(app))
        with ix.searcher() as s:
            assert s.doc_count() == 1


def test_rollback_leaves_no_outbox_row_and_no_document(app, indexed):
    with app.app_context():
        clinic = ClinicFactory(description="Plain studio.")
        cid = clinic.id
        clinic.description = "Rolledbackword studio."
        search.mark_dirty(cid)
        db.session.rollback()
        services.commit()
    assert outbox_rows(app) == 0
    assert ids_for(app, "rolledbackword") == []


def test_suspending_a_clinic_removes_its_document(app, indexed):
    with app.app_context():
        clinic = ClinicFactory(description="Vanishingword studio.")
        search.mark_dirty(clinic.id)
        services.commit()
        cid = clinic.id
    assert ids_for(app, "vanishingword") == [cid]
    with app.app_context():
        db.session.get(Clinic, cid).status = "suspended"
        search.mark_dirty(cid)
        services.commit()
        assert cid not in indexer.indexed_ids(index_dir(app))
    assert ids_for(app, "vanishingword") == []


def test_deleted_clinic_leaves_the_index(app, indexed):
    with app.app_context():
        clinic = ClinicFactory(description="Deletedword studio.")
        search.mark_dirty(clinic.id)
        services.commit()
        cid = clinic.id
        db.session.delete(db.session.get(Clinic, cid))
        search.mark_dirty(cid)
        services.commit()
        assert indexer.check(index_dir(app)).ok


def test_writes_succeed_while_another_process_holds_the_writer_and_drain_later(app, indexed):
    with app.app_context():
        held = whoosh_index.open_dir(index_dir(app)).lock("WRITELOCK")  # "another process"
        assert held.acquire()
        try:
            clinic = ClinicFactory(description="Lockedword studio.")
            search.mark_dirty(clinic.id)
            services.commit()  # must not raise nor wait
            cid = clinic.id
            assert db.session.get(Clinic, cid) is not None
        finally:
            held.release()
    assert outbox_rows(app) == 1
    assert ids_for(app, "lockedword") == []  # not yet: the lock holder had it
    # The next search (or drain, or `flask search sync`) applies it.
    with app.test_client() as client:
        html = client.get("/search?q=lockedword").get_data(as_text=True)
    assert "Lockedword" in html or "Clinic" in html
    assert outbox_rows(app) == 0
    assert ids_for(app, "lockedword") == [cid]


# Whoosh leaves the truncated TOC file open when it fails to read it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_drain_failure_never_reaches_the_view(app, indexed, caplog):
    with app.app_context():
        # Corrupt the index: the drain cannot open it, logs, and keeps the row.
        for name in os.listdir(index_dir(app)):
            if name.endswith(".toc"):
                open(os.path.join(index_dir(app), name), "wb").close()
        indexer.forget(index_dir(app))
        clinic = ClinicFactory()
        search.mark_dirty(clinic.id)
        services.commit()
    assert outbox_rows(app) == 1


def test_sync_command_drains_and_check_reports_drift(app, indexed, runner):
    with app.app_context():
        clinic = ClinicFactory(description="Syncword studio.")
        search.mark_dirty(clinic.id)
        db.session.commit()
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "missing from the index" in result.output
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert "Applied 1 outbox rows; 0 pending." in result.output
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert "0 missing, 0 extra" in result.output
    rebuild(app)


def test_with_draining_off_changes_wait_in_the_outbox_for_sync(app_factory):
    app = app_factory(SEARCH_DRAIN_AFTER_COMMIT=False)
    rebuild(app)
    with app.app_context():
        clinic = ClinicFactory(description="Laggingword studio.")
        search.mark_dirty(clinic.id)
        services.commit()
        cid = clinic.id
    assert app.test_client().get("/search?q=laggingword").status_code == 200
    assert outbox_rows(app) == 1
    assert ids_for(app, "laggingword") == []
    assert app.test_cli_runner().invoke(args=["search", "sync"]).exit_code == 0
    assert ids_for(app, "laggingword") == [cid]


def test_a_search_in_flight_survives_another_thread_refreshing_the_index(app, indexed):
    """gunicorn threads share the worker's open index: a commit seen by one thread must
    not close the reader another thread is still searching with."""
    with app.app_context():
        first = ClinicFactory(description="Studio for inflightword pigment.")
        search.mark_dirty(first.id)
        services.commit()
        in_flight = search.engine()  # a search that started before the next commit
        second = ClinicFactory(description="Another inflightword studio.")
        search.mark_dirty(second.id)
        services.commit()
        search.engine()  # another thread's request sees the new commit
        hits = in_flight.run(Query(text="inflightword"))  # ReaderClosed before the fix
        assert hits.ids == [first.id]  # its own generation: the second is not in it yet
