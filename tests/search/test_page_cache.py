"""The optional page cache of /search never shows what the database no longer shows."""

from __future__ import annotations

from whoosh import index as whoosh_index

from directory import search, services
from directory.extensions import db
from directory.models import Clinic
from tests.factories import ClinicFactory
from tests.search.conftest import card_names, index_dir, rebuild


def test_cached_pages_follow_every_index_change(app_factory):
    app = app_factory(PAGE_CACHE=True)
    with app.app_context():
        cid = ClinicFactory(name="Cached Studio", description="Cacheword.").id
    rebuild(app)
    client = app.test_client()
    first = client.get("/search?q=cacheword").get_data(as_text=True)
    assert card_names(first) == ["Cached Studio"]
    assert client.get("/search?q=cacheword").get_data(as_text=True) == first
    with app.app_context():
        db.session.get(Clinic, cid).name = "Renamed Studio"
        search.mark_dirty(cid)
        services.commit()
    assert card_names(client.get("/search?q=cacheword").get_data(as_text=True)) == [
        "Renamed Studio"
    ]


def test_no_cached_page_while_the_index_lags(app_factory):
    app = app_factory(PAGE_CACHE=True)
    with app.app_context():
        cid = ClinicFactory(name="Lagging Studio", description="Lagword.").id
    rebuild(app)
    client = app.test_client()
    assert card_names(client.get("/search?q=lagword").get_data(as_text=True)) == ["Lagging Studio"]
    held = whoosh_index.open_dir(index_dir(app)).lock("WRITELOCK")  # another process
    assert held.acquire()
    try:
        with app.app_context():
            db.session.get(Clinic, cid).status = "suspended"
            search.mark_dirty(cid)
            services.commit()
        # The index still has the clinic; the page must not come from the cache.
        html = client.get("/search?q=lagword").get_data(as_text=True)
        assert "Lagging Studio" not in html
    finally:
        held.release()
    assert "Lagging Studio" not in client.get("/search?q=lagword").get_data(as_text=True)


def test_a_search_cut_short_by_its_time_limit_is_never_stored(app_factory):
    """A page that says the search took too long shows a passing state: the next
    visitor gets a fresh search, not that page from the cache."""
    app = app_factory(PAGE_CACHE=True, SEARCH_TIME_LIMIT_S=0)
    with app.app_context():
        ClinicFactory(name="Slow Studio", description="Slowword.")
    rebuild(app)
    client = app.test_client()
    for _ in range(2):
        resp = client.get("/search?q=slowword")
        assert "The search took too long" in resp.get_data(as_text=True)
        assert resp.headers.get("X-Page-Cache") is None
        assert resp.headers["Cache-Control"] == "no-cache"
    app.config["SEARCH_TIME_LIMIT_S"] = 5
    first = client.get("/search?q=slowword")
    assert "The search took too long" not in first.get_data(as_text=True)
    assert first.headers["X-Page-Cache"] == "miss"
    assert client.get("/search?q=slowword").headers["X-Page-Cache"] == "hit"


def test_cards_rendered_once_still_show_every_change_with_the_cache_off(app_factory):
    """A clinic card's HTML is kept per worker for its content (templating.MacroMemo):
    a renamed clinic, new services or a new price show on the next search, and a
    second clinic with the same words gets its own card and link."""
    app = app_factory(PAGE_CACHE=False)
    with app.app_context():
        cid = ClinicFactory(
            name="Memo Studio", slug="memo-studio", description="Memoword.", price_min=1500
        ).id
    rebuild(app)
    client = app.test_client()
    first = client.get("/search?q=memoword").get_data(as_text=True)
    assert card_names(first) == ["Memo Studio"]
    assert client.get("/search?q=memoword").get_data(as_text=True) == first
    with app.app_context():
        clinic = db.session.get(Clinic, cid)
        clinic.name = "Renamed Memo"
        clinic.services = ["scar"]
        clinic.price_min = 900
        search.mark_dirty(cid)
        twin = ClinicFactory(name="Memo Studio", slug="memo-studio-two", description="Memoword.")
        search.mark_dirty(twin.id)
        services.commit()
    html = client.get("/search?q=memoword").get_data(as_text=True)
    assert sorted(card_names(html)) == ["Memo Studio", "Renamed Memo"]
    assert 'href="/clinics/memo-studio-two">Memo Studio<' in html
    assert 'href="/clinics/memo-studio">Renamed Memo<' in html
    assert "Scar camouflage" in html and "900" in html
