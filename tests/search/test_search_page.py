"""The search page, suggestions and "best-rated near you" as a visitor sees them."""

from __future__ import annotations

import re

import pytest

from directory import search, services
from directory.models import Practitioner
from directory.services import scores
from tests.factories import ClinicFactory, ReviewFactory
from tests.search.conftest import card_names, rebuild


@pytest.fixture
def site(app):
    with app.app_context():
        rows = [
            (
                "Camden Scalp Studio",
                "London",
                "GB",
                51.54,
                -0.14,
                ["full_scalp", "scar"],
                1500,
                "GBP",
                5,
                "We specialise in scar camouflage after hair transplants.",
            ),
            (
                "Soho Density Lab",
                "London",
                "GB",
                51.51,
                -0.13,
                ["density"],
                2200,
                "GBP",
                4,
                "Density work for women with long hair & <b>thin</b> areas.",
            ),
            (
                "Salford Hairline Co",
                "Manchester",
                "GB",
                53.48,
                -2.29,
                ["hairline"],
                1200,
                "GBP",
                3,
                "Natural hairline design.",
            ),
            (
                "Marais Pigment",
                "Paris",
                "FR",
                48.86,
                2.36,
                ["full_scalp", "density"],
                2500,
                "EUR",
                4,
                "Pigments blended for every skin type.",
            ),
        ]
        for name, city, cc, lat, lon, svcs, price, cur, overall, desc in rows:
            c = ClinicFactory(
                name=name,
                city=city,
                country=cc,
                latitude=lat,
                longitude=lon,
                services=svcs,
                price_min=price,
                price_max=price + 800,
                currency=cur,
                description=desc,
            )
            ReviewFactory(
                clinic=c,
                overall=overall,
                text=f"Review of {name}: the micropigmentation looks real.",
            )
            scores.recompute_clinic(c)
        c = ClinicFactory(name="Practitioner Place", city="Leeds", latitude=53.8, longitude=-1.55)
        from directory.extensions import db

        db.session.add(Practitioner(clinic=c, name="Ottoline Featherstonehaugh"))
        search.mark_dirty(c.id)
        services.commit()
    rebuild(app)
    return app


def test_free_text_uses_stemming_over_every_public_field(site, client):
    assert card_names(client.get("/search?q=camouflaging").get_data(as_text=True)) == [
        "Camden Scalp Studio"
    ]
    assert card_names(client.get("/search?q=featherstonehaugh").get_data(as_text=True)) == [
        "Practitioner Place"
    ]
    # Testimonial text (the digest) is searchable too.
    html = client.get("/search?q=" + "Salford review").get_data(as_text=True)
    assert card_names(html) == ["Salford Hairline Co"]


def test_misspelling_finds_results_and_offers_did_you_mean(site, client):
    html = client.get("/search?q=camuflage&service=scar").get_data(as_text=True)
    assert card_names(html) == ["Camden Scalp Studio"]
    assert "similar spellings" in html
    link = re.search(r'Did you mean <a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert link.group(2) == "camouflage"
    assert "service=scar" in link.group(1)
    followed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert card_names(followed) == ["Camden Scalp Studio"]
    assert "Did you mean" not in followed


def test_snippets_highlight_matches_and_escape_text(site, client):
    html = client.get("/search?q=thin+<b>areas</b>").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet[^"]*">(.*?)</p>', html, re.S).group(1)
    assert "<mark>thin</mark>" in snippet and "<mark>areas</mark>" in snippet
    assert "&lt;b&gt;" in snippet and "<b>" not in snippet
    assert "<b>areas</b>" not in html


def test_filters_service_country_women_price_and_place(site, client):
    def names(qs):
        return set(card_names(client.get("/search?" + qs).get_data(as_text=True)))

    assert names("service=density") == {"Soho Density Lab", "Marais Pigment"}
    assert names("country=fr") == {"Marais Pigment"}
    assert names("women=1") == {"Soho Density Lab", "Marais Pigment"}
    # Starting prices in approximate US dollars: GBP 1,500 and 1,200 are within 2,000.
    assert names("max_price=2000") == {
        "Camden Scalp Studio",
        "Salford Hairline Co",
        "Practitioner Place",
    }
    assert names("max_price=1000") == set()
    assert names("place=London&radius=25") == {"Camden Scalp Studio", "Soho Density Lab"}
    assert names("place=London&radius=500") >= {"Salford Hairline Co", "Practitioner Place"}
    assert names("city=paris") == {"Marais Pigment"}


def test_unknown_place_says_so(site, client):
    resp = client.get("/search?place=Qqqqqqzzz")
    assert resp.status_code == 200
    assert "could not find the place" in resp.get_data(as_text=True)


def test_results_show_total_distance_and_facet_counts(site, client):
    html = client.get("/search?place=Lonndon&radius=500&sort=distance").get_data(as_text=True)
    assert "within 500 km of London, GB" in html and "closest match" in html
    distances = [float(x) for x in re.findall(r'class="distance">(\d+) km away', html)]
    assert distances == sorted(distances) and len(distances) == 5
    assert re.search(r">Density for long hair</a> <span[^>]*>\(2\)", html)
    assert re.search(r">GB</a> <span[^>]*>\(4\)", html)


def test_twenty_results_a_page_with_the_total(app, client):
    with app.app_context():
        for i in range(45):
            ClinicFactory(name=f"Clinic {i:02d}")
    rebuild(app)
    html = client.get("/search").get_data(as_text=True)
    assert len(card_names(html)) == 20 and "45 clinics" in html
    assert len(card_names(client.get("/search?page=3").get_data(as_text=True))) == 5
    assert client.get("/search?page=4").status_code == 404


def test_suggest_returns_clinic_names_and_places(site, client):
    resp = client.get("/search/suggest?q=sal")
    assert resp.status_code == 200 and resp.is_json
    items = resp.get_json()["suggestions"]
    clinics = [i for i in items if i["kind"] == "clinic"]
    places = [i for i in items if i["kind"] == "place"]
    assert clinics[0]["label"] == "Salford Hairline Co"
    assert clinics[0]["url"] == "/clinics/" + clinics[0]["url"].rsplit("/", 1)[1]
    assert any(p["value"] == "Salvador" for p in places)
    assert client.get("/search/suggest?q=s").get_json()["suggestions"] == []
    assert client.get("/search/suggest?q=" + "x" * 61).status_code == 400


def test_suggest_never_offers_a_hidden_clinic(site, client, app):
    with app.app_context():
        c = ClinicFactory(name="Salty Suspended", status="suspended")
        search.mark_dirty(c.id)
        services.commit()
    labels = [i["label"] for i in client.get("/search/suggest?q=salt").get_json()["suggestions"]]
    assert "Salty Suspended" not in labels


def test_home_shows_best_rated_near_a_chosen_place(site, client):
    html = client.get("/?near=Lonndon").get_data(as_text=True)
    section = html[html.index('id="near-heading"') : html.index('id="best-heading"')]
    assert card_names(section.replace('<h3 class="h5', '<h2 class="h5')) == [
        "Camden Scalp Studio",
        "Soho Density Lab",
    ]
    assert "km away" in section and "London, GB" in section
    html = client.get("/?near=Qqqqzzzz").get_data(as_text=True)
    assert "could not find the place" in html
    assert client.get("/?near=" + "x" * 200).status_code == 400


def test_home_search_box_points_at_suggestions(site, client):
    html = client.get("/").get_data(as_text=True)
    assert 'data-suggest="/search/suggest"' in html
