"""Order of results: quality first, unrated last, never price."""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import select

from directory import search, services, vocab
from directory.extensions import db
from directory.models import Clinic
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


@pytest.fixture
def level(app):
    """Clinics that differ only where the quality order's later keys decide: a score in
    its last stored digit, the testimonial count, the name's case and accents, names
    alike in their first 80 characters, identical names, and unrated clinics."""
    with app.app_context():
        spec = [
            # name, score, testimonials
            ("Zeta Studio", 4.201, 2),
            ("Gamma Studio", 4.2, 7),
            ("alpha studio", 4.2, 5),
            ("Beta Studio", 4.2, 5),
            ("ÉZ Studio", 4.2, 5),
            ("éa Studio", 4.2, 5),
            ("Twin Studio", 4.2, 5),
            ("Twin Studio", 4.2, 5),
            ("L" * 80 + " b", 4.2, 5),
            ("L" * 80 + " a", 4.2, 5),
            ("Best Studio", 4.9, 1),
            ("Low Studio", 1.5, 9),
            ("unrated aardvark", None, 0),
            ("Unrated Zebra", None, 0),
            ("Hidden Studio", 5.0, 40, "suspended"),
        ]
        for name, score, count, *status in spec:
            ClinicFactory(
                name=name,
                quality_score=score,
                review_count=count,
                status=status[0] if status else "listed",
            )
        services.commit()
    rebuild(app)
    return app


def _quality_order(app) -> list[int]:
    """Every public clinic in quality.ranking_key's order (the rule)."""
    from directory import quality
    from directory.models import Clinic
    from directory.services.clinics import is_public_clinic

    with app.app_context():
        rows = db.session.execute(
            select(Clinic.quality_score, Clinic.review_count, Clinic.name, Clinic.id).where(
                is_public_clinic()
            )
        ).all()
    return [r.id for r in sorted(rows, key=lambda r: quality.ranking_key(*r))]


def test_search_sql_and_quality_py_agree_on_the_quality_order(level, client):
    """quality.ranking_key is the rule; the search index's sort and the SQL order
    (home page, compare page) must give the same order, through their real paths."""
    from directory.models import Clinic
    from directory.services import clinics, compare

    expected = _quality_order(level)
    with level.app_context():
        names = {c.id: c.name for c in db.session.execute(select(Clinic)).scalars()}
        assert search.engine().run(search.Query(per_page=50)).ids == expected
        rated = [cid for cid in expected if db.session.get(Clinic, cid).quality_score]
        for n in range(1, len(rated) + 1):  # every cut, through and between ties
            assert clinics.best_rated_ids(n) == rated[:n], n
        slugs = {cid: db.session.get(Clinic, cid).slug for cid in expected}
        for four in (expected[1:5], expected[4:8], expected[-4:]):
            shown = compare.columns([slugs[cid] for cid in reversed(four)])
            assert [col.clinic.id for col in shown] == four
    html = client.get("/search").get_data(as_text=True)
    assert card_names(html) == [names[cid] for cid in expected]


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
    engine_module = importlib.import_module("directory.search.engine")

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
        monkeypatch.setattr(engine_module, "GLOBAL_ORDER_MIN", 0)
        assert [engine.run(q).ids for q in cases] == expected


def test_words_matched_by_many_clinics_order_as_the_full_sort(app, monkeypatch):
    """Past GLOBAL_ORDER_MIN matches, words walk the precomputed order for the
    best-covered clinics (engine._top_cover_page): the same pages as sorting every
    match, names holding the words first, with ties, both sorts and deep pages."""
    engine_module = importlib.import_module("directory.search.engine")
    words = ["pigment", "natural", "shade", "layering", "crown"]
    with app.app_context():
        for i in range(40):
            held = [w for j, w in enumerate(words) if (i >> j) & 1 or j == i % 5]
            ClinicFactory(
                name=f"{'Pigment ' if i % 7 == 0 else ''}{'Shade ' if i % 3 == 0 else ''}C{i}",
                description=" ".join(held) + ".",
                quality_score=None if i % 11 == 0 else round(2 + (i * 37 % 30) / 10, 1),
                review_count=i % 4,
            )
        services.commit()
    rebuild(app)
    queries = [
        search.Query(text=text, sort=sort, page=page, per_page=per_page)
        for text in ("pigment", "natural", "pigment shade", "natural layering", "shade", "crown")
        for sort in ("quality", "reviews")
        for page, per_page in ((1, 20), (1, 3), (2, 3), (4, 3))
    ]
    with app.app_context():
        engine = search.engine()
        monkeypatch.setattr(engine_module, "GLOBAL_ORDER_MIN", 10**9)
        expected = [engine.run(q).ids for q in queries]
        walked = []
        top_cover_page = engine_module.Engine._top_cover_page

        def counted(self, *args):
            page = top_cover_page(self, *args)
            walked.append(page is not None)
            return page

        monkeypatch.setattr(engine_module.Engine, "_top_cover_page", counted)
        monkeypatch.setattr(engine_module, "GLOBAL_ORDER_MIN", 0)
        assert [engine.run(q).ids for q in queries] == expected
    assert sum(walked) >= len(queries) // 2, walked  # the walk, not the fallback
    assert any(len(ids) == 3 for ids in expected)


def test_facets_count_every_result_by_country_and_service(app):
    """The refine counts beside the results (engine.facets, counted as bits): each
    country's and service's number is how many of the results, on every page, are
    in that country or offer that service; words, filters, a place and a
    misspelling each narrow them; a removed clinic leaves them."""
    countries = [
        ("GB", "London", 51.51, -0.13),
        ("FR", "Paris", 48.86, 2.35),
        ("US", "Boston", 42.36, -71.06),
    ]
    offered = [
        ["full_scalp"],
        ["scar", "hairline"],
        ["density", "correction", "full_scalp"],
        ["removal"],
    ]
    with app.app_context():
        made = []
        for i in range(30):
            country, city, lat, lon = countries[i % 3 if i % 4 else 0]
            made.append(
                ClinicFactory(
                    country=country,
                    city=city,
                    latitude=lat + i / 1000,
                    longitude=lon,
                    services=offered[i % 4],
                    description=("Pigment layering." if i % 2 else "Natural stubble.")
                    + f" Shade {i % 5}.",
                    price_min=800 + 100 * i,
                )
            )
        made[3].status = "suspended"
        gone = made[3].id
        services.commit()
    rebuild(app)
    queries = [
        search.Query(),
        search.Query(text="pigment"),
        search.Query(text="pigment stubble"),
        search.Query(text="pigmnet"),
        search.Query(text="layering", country="FR"),
        search.Query(service="full_scalp", max_price=2500),
        search.Query(text="pigment", service="scar"),
        search.Query(text="natural shade", max_price=2000),
        search.Query(
            text="natural", women=False, place=search.read_place("London")[0], radius_km=50
        ),
        search.Query(text="scar natural"),
    ]
    with app.app_context():
        rows = {
            c.id: (c.country, set(c.services))
            for c in db.session.execute(select(Clinic).where(Clinic.status == "listed")).scalars()
        }
        engine = search.engine()
        for q in queries:
            hits = engine.run(q)
            every = engine.run(replace(q, per_page=1000)).ids
            assert len(every) == hits.total and gone not in every
            by_country = Counter(rows[i][0] for i in every)
            by_service = Counter(s for i in every for s in rows[i][1])
            assert hits.facets["country"] == dict(
                sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))
            ), q
            assert list(hits.facets["country"]) == [
                cc for cc, _ in sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))
            ], q  # the most results first
            assert hits.facets["service"] == {
                k: by_service[k] for k in vocab.SERVICES if by_service[k]
            }, q
    assert hits.total > 0


def test_best_match_for_one_word_matched_by_many_clinics_is_the_full_scoring(app, monkeypatch):
    """ "Best match" on one word held by many clinics reads them by text relevance and
    by quality side by side and stops once no clinic not yet read can place
    (engine._best_match_one_word): the same pages as scoring every match, with ties
    on quality and on text, the word in names, unrated clinics and deep pages."""
    engine_module = importlib.import_module("directory.search.engine")
    with app.app_context():
        for i in range(45):
            ClinicFactory(
                name=f"{'Pigment ' * (i % 3 == 0)}Studio {i}",
                description=" ".join(["pigment"] * (1 + i % 4) + ["natural"] * (i % 5))
                + ". Shade.",
                quality_score=None if i % 9 == 0 else round(2 + (i * 13 % 25) / 10, 1),
                review_count=i % 3,
            )
        services.commit()
    rebuild(app)
    queries = [
        search.Query(text=text, sort="relevance", page=page, per_page=per_page)
        for text in ("pigment", "natural", "shade")
        for page, per_page in ((1, 20), (1, 3), (2, 3), (5, 4), (2, 20))
    ]
    with app.app_context():
        engine = search.engine()
        monkeypatch.setattr(engine_module, "GLOBAL_ORDER_MIN", 10**9)  # score every match
        expected = [engine.run(q).ids for q in queries]
        walked = []
        one_word = engine_module.Engine._best_match_one_word

        def counted(self, *args):
            walked.append(True)
            return one_word(self, *args)

        monkeypatch.setattr(engine_module.Engine, "_best_match_one_word", counted)
        monkeypatch.setattr(engine_module, "GLOBAL_ORDER_MIN", 0)
        assert [engine.run(q).ids for q in queries] == expected
    assert len(walked) == len(queries)  # the walk, not the fallback
    assert all(expected) and any(len(ids) == 3 for ids in expected)
