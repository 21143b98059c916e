"""Order of results: quality first, unrated last, never price."""

from __future__ import annotations

import pytest

from directory import search, services
from directory.extensions import db
from directory.services import scores
from tests.factories import ClinicFactory, ReviewFactory
from tests.search.conftest import card_names, rebuild


@pytest.fixture
def ranked(app):
    """Quality and price run in opposite directions; two clinics tie on quality."""
    with app.app_context():
        spec = [
            # name, price_min, overall ratings, city, lat, lon
            ("Budget Blur", 300, [2, 2, 1], "London", 51.50, -0.12),
            ("Premium Precision", 4500, [5, 5, 5], "Manchester", 53.48, -2.24),
            ("Tied Beta", 2000, [4, 4], "London", 51.52, -0.10),
            ("Tied Alpha", 2100, [4, 4], "Leeds", 53.80, -1.55),
            ("Tied Many", 2200, [4, 4, 4, 4], "London", 51.45, -0.20),
            ("Unrated Aardvark", 100, [], "London", 51.51, -0.13),
            ("Unrated Zebra", 9000, [], "London", 51.51, -0.13),
        ]
        for name, price, ratings, city, lat, lon in spec:
            c = ClinicFactory(
                name=name,
                price_min=price,
                price_max=price + 500,
                city=city,
                latitude=lat,
                longitude=lon,
                currency="GBP",
            )
            for r in ratings:
                ReviewFactory(clinic=c, overall=r, text="Natural result.")
            scores.recompute_clinic(c)
        services.commit()
    rebuild(app)
    return app


def test_default_order_is_quality_with_unrated_last(ranked, client):
    names = card_names(client.get("/search").get_data(as_text=True))
    assert names[0] == "Premium Precision"
    assert names[-2:] == ["Unrated Aardvark", "Unrated Zebra"]  # unrated: by name
    assert names.index("Tied Beta") < names.index("Budget Blur")


def test_ties_on_quality_go_to_more_reviews_then_name(ranked, client):
    names = card_names(client.get("/search").get_data(as_text=True))
    tied = [n for n in names if n.startswith("Tied")]
    assert tied == ["Tied Many", "Tied Alpha", "Tied Beta"]


def test_order_matches_the_sql_quality_order(ranked):
    from sqlalchemy import select

    from directory.models import Clinic
    from directory.services.clinics import by_quality, is_public_clinic

    with ranked.app_context():
        sql = [
            c.id
            for c in db.session.execute(
                by_quality(select(Clinic).where(is_public_clinic()))
            ).scalars()
        ]
        assert search.engine().run(search.Query()).ids == sql


def test_price_is_never_an_order(ranked, client):
    for sort in ("price", "price_min", "-price", "cheapest"):
        assert client.get(f"/search?sort={sort}").status_code == 400
    html = client.get("/search").get_data(as_text=True)
    assert "Price never changes the order" in html
    assert card_names(html)[0] == "Premium Precision"  # the most expensive rated clinic


def test_max_price_filters_without_reordering(ranked, client):
    names = card_names(client.get("/search?max_price=3000").get_data(as_text=True))
    assert "Premium Precision" not in names and "Unrated Zebra" not in names
    assert names[:3] == ["Tied Many", "Tied Alpha", "Tied Beta"]
    assert names[-1] == "Unrated Aardvark"


def test_sort_by_number_of_reviews(ranked, client):
    names = card_names(client.get("/search?sort=reviews").get_data(as_text=True))
    assert names[:3] == ["Tied Many", "Premium Precision", "Budget Blur"]


def test_distance_sort_and_radius_with_distances_shown(ranked, client):
    html = client.get("/search?place=London&radius=50&sort=distance").get_data(as_text=True)
    names = card_names(html)
    assert "Premium Precision" not in names and "Tied Alpha" not in names  # Manchester, Leeds
    assert names[0] in ("Unrated Aardvark", "Unrated Zebra", "Budget Blur")
    assert "km away" in html
    quality = card_names(client.get("/search?place=London&radius=50").get_data(as_text=True))
    assert quality[0] == "Tied Many" and quality[-2:] == ["Unrated Aardvark", "Unrated Zebra"]
    wide = card_names(client.get("/search?place=London&radius=500").get_data(as_text=True))
    assert wide[0] == "Premium Precision"


def test_relevance_sort_prefers_the_name_match(ranked, client):
    with ranked.app_context():
        c = ClinicFactory(name="Precision Hairlines", description="Studio.")
        search.mark_dirty(c.id)
        services.commit()
    names = card_names(client.get("/search?q=precision&sort=relevance").get_data(as_text=True))
    assert set(names) == {"Premium Precision", "Precision Hairlines"}
    names = card_names(client.get("/search?q=precision").get_data(as_text=True))
    assert names == ["Premium Precision", "Precision Hairlines"]  # quality: rated first


def test_large_result_sets_walk_the_precomputed_order_identically(ranked, monkeypatch):
    from directory.search import queries

    with ranked.app_context():
        engine = search.engine()
        cases = [
            search.Query(),
            search.Query(sort="reviews"),
            search.Query(max_price=3000),
            search.Query(page=2, per_page=3),
            search.Query(text="natural"),
        ]
        expected = [engine.run(q).ids for q in cases]
        monkeypatch.setattr(queries, "GLOBAL_ORDER_MIN", 0)
        assert [engine.run(q).ids for q in cases] == expected
