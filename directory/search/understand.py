"""What a visitor's words mean, before any index look-up.

The words are folded (lower case, no accents or punctuation) and read left to
right, the longest known phrase first (up to four words), against the search
vocabulary (directory/data/search_vocabulary.toml) and the gazetteer:

- the field's own words ("smp", "hair tattoo", "clinic", "best", "near me") are
  set aside: they never restrict the result;
- a service's name or synonym ("scar cover up", "women", "laser") becomes a
  concept matched by the clinic's listed service (fully) or its text (half);
- a country name or alias ("uk", "deutschland") and a city name or alias
  ("nyc", "são paulo", "milano") become place readings;
- every other word is a concept matched softly against the clinic's text.

Which reading of an ambiguous word ("Reading", "Nice", "Meridian") is used is
decided later by the engine, which can ask the index (queries.Engine.plan).
Pure: no Flask, no database, no index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import gazetteer
from .gazetteer import Place, fold

MAX_WORDS = 16  # words read from the box; the rest is ignored
MAX_PHRASE = 4


@dataclass(frozen=True)
class Concept:
    """One thing asked for, matched softly."""

    words: str  # as folded from the query
    service: str | None = None  # a service key: clinics offering it match fully
    start: int = 0  # word position in the query


@dataclass(frozen=True)
class PlaceReading:
    """Words that may name a place."""

    words: str  # folded words as typed
    places: tuple[Place, ...] = ()  # city readings, most populous first
    country: str | None = None  # a country reading (ISO code)
    strong: bool = False  # an alias, a country or several words: no other reading
    start: int = 0  # word positions in the query (for removing the words)
    end: int = 0


@dataclass(frozen=True)
class Reading:
    words: tuple[str, ...]  # every folded word of the query
    concepts: tuple[Concept, ...]
    places: tuple[PlaceReading, ...]
    ignored: tuple[str, ...]  # vocabulary words set aside

    def text_without(self, reading: PlaceReading) -> str:
        """The query's words without those of a place reading (to remove a chip)."""
        return " ".join(self.words[: reading.start] + self.words[reading.end :])


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], dict[str, str]]:
    vocab = gazetteer.vocabulary()
    ignore = frozenset(fold(w) for group in vocab.get("ignore", {}).values() for w in group)
    services: dict[str, str] = {}
    for key, words in vocab.get("services", {}).items():
        for w in words:
            services[fold(w)] = key
    return ignore, services


def ignored_words() -> frozenset[str]:
    return _tables()[0]


def _known(phrase: str, n_words: int) -> tuple[str, object] | None:
    """What a phrase is, if anything: ("ignore"|"service"|"country"|"place", value)."""
    ignore, services = _tables()
    if phrase in ignore:
        return "ignore", None
    if phrase in services:
        return "service", services[phrase]
    country = gazetteer.country_by_name(phrase)
    if country is not None and (n_words > 1 or len(phrase) > 2 or phrase == "uk"):
        return "country", country
    if gazetteer.is_alias(phrase) or len(phrase) >= 3:
        places = gazetteer.exact(phrase, in_text=True)
        if places:
            return "place", places
    return None


@lru_cache(maxsize=4096)
def read(text: str | None) -> Reading:
    """The query's words sorted into ignored words, concepts and place readings."""
    words = tuple(fold((text or "")[:400]).split()[:MAX_WORDS])
    concepts: list[Concept] = []
    places: list[PlaceReading] = []
    ignored: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + n])
            known = _known(phrase, n)
            if known is None:
                continue
            kind, value = known
            if kind == "ignore":
                ignored.append(phrase)
            elif kind == "service":
                concepts.append(Concept(phrase, service=value, start=i))
            elif kind == "country":
                places.append(PlaceReading(phrase, country=value, strong=True, start=i, end=i + n))
            else:
                strong = n > 1 or gazetteer.is_alias(phrase)
                places.append(PlaceReading(phrase, value, strong=strong, start=i, end=i + n))
            i += n
            break
        else:
            concepts.append(Concept(words[i], start=i))
            i += 1
    return Reading(words, tuple(concepts), tuple(places), tuple(ignored))


def strip_ignored(text: str | None) -> str:
    """The words without the vocabulary's ignored ones ("smp clinic lon" -> "lon")."""
    ignore = ignored_words()
    return " ".join(w for w in fold((text or "")[:200]).split() if w not in ignore)
