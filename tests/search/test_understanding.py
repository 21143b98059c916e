"""The search box understands how people ask: the treatment's words never restrict,
places and countries become removable filters, the rest matches softly."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from directory import search, services
from directory.search import understand
from directory.services import scores
from tests.factories import ClinicFactory, ReviewFactory
from tests.search.conftest import card_names, rebuild

LONDON = (51.51, -0.13)


@pytest.fixture
def site(app):
    with app.app_context():
        rows = [
            # name, city, country, (lat, lon), services, overall, description
            ("Best Kept Secret", "London", "GB", LONDON, ["full_scalp", "hairline"], 5, "Quiet."),
            ("Camden SMP", "London", "GB", (51.54, -0.14), ["full_scalp", "scar"], 4, "Scars."),
            ("Soho SMP Lab", "London", "GB", (51.51, -0.13), ["density"], 3, "Long hair."),
            ("Meridian Pigment", "Manchester", "GB", (53.48, -2.24), ["full_scalp"], 4, "Dots."),
            ("Thames Valley Dots", "Reading", "GB", (51.45, -0.97), ["hairline"], 4, "Lines."),
            ("Marais SMP", "Paris", "FR", (48.86, 2.35), ["full_scalp", "scar"], 5, "Paris."),
            ("Kreuzberg Haar", "Berlin", "DE", (52.5, 13.4), ["removal"], 4, "Laser."),
        ]
        for name, city, cc, (lat, lon), svcs, overall, desc in rows:
            c = ClinicFactory(
                name=name,
                city=city,
                country=cc,
                latitude=lat,
                longitude=lon,
                services=svcs,
                description=desc,
            )
            ReviewFactory(clinic=c, overall=overall, text="Healed well, natural look.")
            scores.recompute_clinic(c)
        services.commit()
    rebuild(app)
    return app


def names(client, url: str) -> list[str]:
    return card_names(client.get(url).get_data(as_text=True))


def test_the_treatments_own_words_never_restrict(site, client):
    london = ["Best Kept Secret", "Camden SMP", "Soho SMP Lab"]
    for typed in ("smp london", "best smp clinic near london", "scalp micropigmentation london"):
        assert names(client, "/search?q=" + quote(typed)) == london, typed


def test_a_place_in_the_words_is_a_removable_chip_and_the_title_says_so(site, client):
    html = client.get("/search?q=smp+london").get_data(as_text=True)
    chip = re.search(
        r'<a class="btn btn-sm btn-outline-primary place-chip" href="([^"]+)">([^<]+)', html
    )
    assert chip and chip.group(2).strip() == "near London, GB"
    assert "q=smp" in chip.group(1) and "london" not in chip.group(1).lower()
    assert "<title>SMP clinics near London, GB · SMP Clinic Directory</title>" in html
    assert 'content="3 SMP clinics near London, GB, ordered by the quality' in html
    removed = client.get(chip.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "place-chip" not in removed
    assert len(card_names(removed)) == 7


def test_page_two_says_so_in_the_title(site, app, client):
    app.config["PAGE_SIZE"] = 2
    html = client.get("/search?q=smp+london&page=2").get_data(as_text=True)
    assert "<title>SMP clinics near London, GB — page 2 · SMP Clinic Directory</title>" in html
    assert card_names(html) == ["Soho SMP Lab"]


def test_countries_and_their_aliases_filter_by_country(site, client):
    gb = {
        "Best Kept Secret",
        "Camden SMP",
        "Soho SMP Lab",
        "Meridian Pigment",
        "Thames Valley Dots",
    }
    for typed in ("smp uk", "smp in the united kingdom", "england smp", "smp britain"):
        assert set(names(client, "/search?q=" + quote(typed))) == gb, typed
    html = client.get("/search?q=smp+deutschland").get_data(as_text=True)
    assert card_names(html) == ["Kreuzberg Haar"] and "in Germany" in html


def test_the_country_field_takes_names_codes_and_aliases(site, client):
    for value in ("GB", "gb", "UK", "United Kingdom", "GBR"):
        assert len(names(client, "/search?country=" + quote(value))) == 5, value
    resp = client.get("/search?country=Narnia")
    assert resp.status_code == 400
    assert "We do not know the country “Narnia”" in resp.get_data(as_text=True)


def test_remaining_words_match_softly_and_rank_first(site, client):
    html = client.get("/search?q=scar+london").get_data(as_text=True)
    # Every London clinic stays (the place says what the user wants); the one
    # offering scar camouflage comes first.
    assert card_names(html) == ["Camden SMP", "Best Kept Secret", "Soho SMP Lab"]
    assert "1 matching “scar” first" in html
    # Synonyms of a service: "women" and "thinning" mean density work.
    assert names(client, "/search?q=smp+for+women+london")[0] == "Soho SMP Lab"
    assert names(client, "/search?q=laser")[0] == "Kreuzberg Haar"
    # Without a place, clinics matching none of the words are left out.
    assert names(client, "/search?q=scar") == ["Marais SMP", "Camden SMP"]


def test_misspelt_and_foreign_place_names(site, client):
    assert names(client, "/search?q=smp+londn")[0] == "Best Kept Secret"
    html = client.get("/search?q=smp+londn").get_data(as_text=True)
    assert "near London, GB" in html
    assert names(client, "/search?q=" + quote("smp parís")) == ["Marais SMP"]


def test_an_ambiguous_word_is_read_by_what_the_index_supports(site, client):
    # "Meridian" is a town in Idaho and a clinic's name: no clinic near Meridian, US,
    # so the word is read as a word, and the page says so.
    html = client.get("/search?q=meridian").get_data(as_text=True)
    assert card_names(html) == ["Meridian Pigment"]
    assert "read as a word" in html and "Meridian, US" in html
    # "Reading" is a place with a clinic: the place reading wins.
    html = client.get("/search?q=reading&radius=10").get_data(as_text=True)
    assert card_names(html) == ["Thames Valley Dots"]
    assert "near Reading, GB" in html


def test_a_place_without_clinics_gives_way_to_the_rest_of_the_query(site, client):
    # No clinic near Nice, FR, but "scar" finds clinics: "nice" is read as a word.
    html = client.get("/search?q=nice+scar").get_data(as_text=True)
    assert card_names(html) == ["Marais SMP", "Camden SMP"]
    assert "“nice” is read as a word: no clinic is listed near Nice, FR." in html
    assert "Search near Nice, FR instead" in html
    # A place alone, or qualified by its country, stays a place: an honest empty
    # page offering a larger distance.
    html = client.get("/search?q=smp+london+canada").get_data(as_text=True)
    assert "near London, CA" in html and card_names(html) == []
    assert "No clinic matches within 50 km of London, CA yet" in html
    assert "search within 500 km" in html


def test_literal_words_are_not_read_as_places(site, client):
    html = client.get("/search?q=smp+london&literal=1").get_data(as_text=True)
    assert "place-chip" not in html
    assert set(card_names(html)) == {"Best Kept Secret", "Camden SMP", "Soho SMP Lab"}


def test_distance_order_works_with_a_place_read_from_the_words(site, client):
    resp = client.get("/search?q=smp+london&sort=distance")
    assert resp.status_code == 200
    assert card_names(resp.get_data(as_text=True))[0] in ("Best Kept Secret", "Soho SMP Lab")
    resp = client.get("/search?q=scar&sort=distance")
    assert resp.status_code == 400 and "needs a place" in resp.get_data(as_text=True)


def test_suggestions_skip_the_treatments_words_and_offer_each_place_once(site, client):
    items = client.get("/search/suggest?q=smp+lond").get_json()["suggestions"]
    places = [i["label"] for i in items if i["kind"] == "place"]
    assert places[0] == "London, GB" and len(places) == len(set(places))
    items = client.get("/search/suggest?q=united+kingdom").get_json()["suggestions"]
    assert items[0]["kind"] == "country" and items[0]["url"] == "/search?country=United+Kingdom"
    items = client.get("/search/suggest?q=camden").get_json()["suggestions"]
    assert [i["label"] for i in items if i["kind"] == "clinic"] == ["Camden SMP"]


def test_compare_box_finds_a_clinic_despite_a_typo(site, client):
    with site.app_context():
        slug = services.search.find_by_name("Camdem SMP").slug
    resp = client.get("/compare?add=camdem+smp")
    assert resp.status_code == 302 and f"c={slug}" in resp.location
    html = client.get("/compare?add=zzzz+qqqq").get_data(as_text=True)
    assert "No clinic named" in html


def test_home_place_box_reads_countries_and_filler(site, client):
    html = client.get("/?near=uk").get_data(as_text=True)
    assert "Best-rated clinics in United Kingdom" in html
    html = client.get("/?near=" + quote("smp in london")).get_data(as_text=True)
    assert "within 100 km of London, GB" in html


@pytest.mark.parametrize(
    "typed,ignored,concepts,places",
    [
        ("smp london", ["smp"], [], ["london"]),
        ("best hair tattoo in new york", ["best", "hair tattoo", "in"], [], ["new york"]),
        ("scar cover up nyc", [], [("scar cover up", "scar")], ["nyc"]),
        ("Diego Okafor", [], [("diego", None), ("okafor", None)], []),
        ("thinning hair São Paulo", [], [("thinning hair", "density")], ["sao paulo"]),
        ("smp uk", ["smp"], [], ["uk"]),
    ],
)
def test_reading_the_words(typed, ignored, concepts, places):
    r = understand.read(typed)
    assert list(r.ignored) == ignored
    assert [(c.words, c.service) for c in r.concepts] == concepts
    assert [p.words for p in r.places] == places


def test_the_engine_runs_in_named_steps(site):
    with site.app_context():
        engine = search.engine()
        q = search.Query(text="scar london")
        plan = engine.plan(q)
        assert plan.place.label == "London, GB" and [c.words for c in plan.concepts] == ["scar"]
        base, base_bits = engine.filter(q, plan)
        cover, _ = engine.match(plan, base, base_bits, deadline=float("inf"))
        matched, distances = engine.geo(plan, q.radius_km, engine._candidates(plan, base, cover))
        assert len(matched) == 3 and all(km < 50 for km in distances.values())
        assert engine.facets(matched)["country"] == {"GB": 3}
