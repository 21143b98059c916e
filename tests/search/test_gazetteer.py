"""Places resolved offline, and distances."""

from __future__ import annotations

import pytest

from directory.search import gazetteer


def test_haversine_distance_between_known_cities():
    london = gazetteer.resolve("London")
    paris = gazetteer.resolve("Paris")
    km = gazetteer.haversine_km(london.latitude, london.longitude, paris.latitude, paris.longitude)
    assert km == pytest.approx(344, abs=3)
    assert gazetteer.haversine_km(10, 20, 10, 20) == 0
    # Across the antimeridian and pole to pole.
    assert gazetteer.haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.5)
    assert gazetteer.haversine_km(90, 0, -90, 0) == pytest.approx(20015, abs=5)


@pytest.mark.parametrize(
    "typed,name,country",
    [
        ("London", "London", "GB"),
        ("london", "London", "GB"),
        ("  LONDON ", "London", "GB"),
        ("Sao Paulo", "São Paulo", "BR"),
        ("Köln", "Köln", "DE"),
        ("Cologne", "Köln", "DE"),
        ("New York", "New York City", "US"),
        ("Paris, US", "Paris", "US"),
        ("Berlin, Germany", "Berlin", "DE"),
    ],
)
def test_places_resolve_to_the_most_populous_match(typed, name, country):
    place = gazetteer.resolve(typed)
    assert (place.name, place.country) == (name, country)
    assert not place.approximate


@pytest.mark.parametrize(
    "typed,name",
    [
        ("Manchster", "Manchester"),
        ("Pariss", "Paris"),
        ("Amsterdan", "Amsterdam"),
        ("Birmingam", "Birmingham"),
    ],
)
def test_misspelt_places_resolve_to_the_intended_city(typed, name):
    place = gazetteer.resolve(typed)
    assert place.name == name
    # Some misspellings are recorded alternate names; the others are marked approximate.
    if typed in ("Manchster", "Pariss"):
        assert place.approximate


@pytest.mark.parametrize("typed", ["", "x", "qqqqqqqq", "*", "\x00", "🙂", "a" * 500])
def test_nonsense_places_resolve_to_nothing(typed):
    assert gazetteer.resolve(typed) is None


def test_place_suggestions_by_prefix_most_populous_first():
    names = [p.name for p in gazetteer.suggest("manc")]
    assert names[0] == "Manchester"
    assert gazetteer.suggest("m") == []


def test_coordinates_of_a_clinic_address_prefer_the_country_given():
    assert gazetteer.coordinates("London", "GB")[0] == pytest.approx(51.5, abs=0.1)
    assert gazetteer.coordinates("London", "CA")[0] == pytest.approx(42.98, abs=0.1)
    assert gazetteer.coordinates("Paris", "US") is not None
    assert gazetteer.coordinates("München", "DE")[0] == pytest.approx(48.1, abs=0.1)
    assert gazetteer.coordinates("Atlantis", "GB") is None
    assert gazetteer.coordinates("", "GB") is None


@pytest.mark.parametrize(
    "typed,code",
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("GBR", "GB"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("england", "GB"),
        ("Deutschland", "DE"),
        ("germany", "DE"),
        ("USA", "US"),
        ("the Netherlands", "NL"),
        ("Brasil", "BR"),
        ("Narnia", None),
        ("", None),
        ("XX", None),
    ],
)
def test_country_names_codes_and_aliases(typed, code):
    assert gazetteer.country_code(typed) == code


def test_every_place_alias_of_the_vocabulary_names_a_known_city():
    aliases = gazetteer._aliases()
    assert aliases["nyc"].name == "New York City"
    assert aliases["cdmx"].country == "MX"
    for alias, place in aliases.items():
        assert not place.approximate, alias


def test_suggested_places_are_offered_once():
    found = gazetteer.suggest("mil", limit=10)
    labels = [p.label for p in found]
    assert len(labels) == len(set(labels))
