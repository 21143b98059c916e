"""Rebuild, check, and a missing or corrupt index (docs/security.md §30)."""

from __future__ import annotations

import os
import shutil

import pytest

from directory import search
from directory.extensions import db
from directory.models import Clinic
from directory.search import indexer
from tests.factories import ClinicFactory
from tests.search.conftest import card_names, index_dir, rebuild

pytestmark = pytest.mark.filterwarnings(
    # Whoosh leaves a damaged TOC file open when it fails to read it.
    "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def three(app):
    with app.app_context():
        for i, status in enumerate(["listed", "verified", "suspended"]):
            ClinicFactory(name=f"Studio {status}", slug=f"studio-{i}", status=status)
    return app


def test_rebuild_indexes_exactly_the_public_clinics_and_swaps_a_symlink(three):
    app = three
    assert rebuild(app) == 2
    assert os.path.islink(index_dir(app))
    with app.app_context():
        public = {c.id for c in db.session.query(Clinic).filter(Clinic.status != "suspended")}
        assert indexer.indexed_ids(index_dir(app)) == public
        assert indexer.check(index_dir(app)).ok
    # A second rebuild swaps in a new directory and removes the old one.
    first = os.path.realpath(index_dir(app))
    rebuild(app)
    assert os.path.realpath(index_dir(app)) != first
    assert not os.path.exists(first)
    assert len(os.listdir(indexer.versions_dir(index_dir(app)))) == 1


def test_check_lists_missing_and_wrongly_present_clinics(three, runner):
    app = three
    rebuild(app)
    with app.app_context():
        # Changes made behind the outbox's back: drift.
        hidden = db.session.query(Clinic).filter_by(status="listed").one()
        hidden.status = "suspended"
        new = ClinicFactory(name="Unindexed", slug="unindexed")
        db.session.commit()
        drift = indexer.check(index_dir(app))
        assert drift.missing == [new.id] and drift.extra == [hidden.id]
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "1 missing, 1 extra" in result.output
    assert runner.invoke(args=["search", "rebuild"]).exit_code == 0
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0 and "0 missing, 0 extra" in result.output


def test_check_on_a_missing_index_fails_with_a_clear_message(app, runner):
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code != 0
    assert "search rebuild" in result.output


def test_first_search_builds_a_missing_index(three, client):
    html = client.get("/search").get_data(as_text=True)
    assert sorted(card_names(html)) == ["Studio listed", "Studio verified"]
    assert os.path.islink(index_dir(three))


def _corrupt(app):
    for name in os.listdir(index_dir(app)):
        if name.endswith(".toc"):
            with open(os.path.join(index_dir(app), name), "r+b") as fh:
                fh.truncate(7)


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_unusable_index_makes_only_search_unavailable_until_rebuilt(app_factory, damage):
    app = app_factory(SEARCH_AUTO_REBUILD=False)
    with app.app_context():
        ClinicFactory(name="Steady Studio", slug="steady")
    rebuild(app)
    client = app.test_client()
    assert card_names(client.get("/search").get_data(as_text=True)) == ["Steady Studio"]
    if damage == "delete":
        shutil.rmtree(os.path.realpath(index_dir(app)))
    else:
        _corrupt(app)
        # A worker that already had the index open keeps reading its open
        # files; a newly started worker has to open the damaged TOC.
        indexer.forget(index_dir(app))
    resp = client.get("/search?q=steady")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert "Search is unavailable" in html and "<h1" in html and "Traceback" not in html
    for url in ("/", "/clinics/steady", "/clinics/steady/reviews", "/sitemap.xml"):
        assert client.get(url).status_code == 200, url
    assert client.get("/search/suggest?q=st").status_code == 200
    rebuild(app)
    assert card_names(client.get("/search?q=steady").get_data(as_text=True)) == ["Steady Studio"]
    with app.app_context():
        assert indexer.check(index_dir(app)).ok


def test_corrupt_index_is_rebuilt_at_the_next_search(app):
    with app.app_context():
        ClinicFactory(name="Phoenix Studio", slug="phoenix")
    rebuild(app)
    client = app.test_client()
    client.get("/search")
    _corrupt(app)
    indexer.forget(index_dir(app))  # as a newly started worker
    resp = client.get("/search?q=phoenix")
    assert resp.status_code == 200
    assert card_names(resp.get_data(as_text=True)) == ["Phoenix Studio"]


def test_large_database_rebuilds_in_the_background_while_search_says_unavailable(app_factory):
    app = app_factory(SEARCH_SYNC_REBUILD_MAX=0)
    with app.app_context():
        ClinicFactory(name="Background Studio", slug="bg")
    client = app.test_client()
    resp = client.get("/search")
    assert resp.status_code == 503
    import time

    deadline = time.time() + 20
    while time.time() < deadline:
        resp = client.get("/search")
        if resp.status_code == 200:
            break
        time.sleep(0.1)
    assert card_names(resp.get_data(as_text=True)) == ["Background Studio"]


def test_stale_index_never_shows_a_suspended_clinic(app, client):
    with app.app_context():
        cid = ClinicFactory(name="Soon Suspended", slug="soon", description="Staleword.").id
        ClinicFactory(name="Still Listed", slug="still", description="Staleword.")
    rebuild(app)
    with app.app_context():
        db.session.get(Clinic, cid).status = "suspended"
        db.session.commit()  # no outbox row: the index is stale on purpose
        assert cid in indexer.indexed_ids(index_dir(app))
    html = client.get("/search?q=staleword").get_data(as_text=True)
    assert card_names(html) == ["Still Listed"]
    assert "Soon Suspended" not in html
    with app.app_context():
        assert search.engine().run(search.Query(text="staleword")).total == 2
