"""The index side of a search: the query, its answer and one index generation's
cached columns and posting sets (the steps of a search are in engine.py).

Queries are never parsed: the user's words go through the index's analyser,
are capped in length and number, and become plain term look-ups, so no field
syntax, wildcard, range or fuzzy operator typed by a user reaches Whoosh
(docs/security.md §27-§28). Filters are keyword terms; matching, filtering, facet
counts and the quality/review/distance orders are computed over cached
posting sets and column arrays of the current index generation; the
best-match order uses BM25F weights cached per term. Every step is bounded
(terms, expansions, one pass per posting list) and checked against the
SEARCH_TIME_LIMIT_S deadline; past it, the page says results may be incomplete.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import repeat
from operator import add

from .documents import GEO_LEVELS, geo_cell
from .gazetteer import Place
from .schema import ANALYZER, SPELL_ANALYZER

MAX_TERMS = 8
MAX_TOKEN_CHARS = 40
MAX_EXPANSIONS = 24  # fuzzy alternatives per word
FEW = 3  # fewer strict matches than this triggers the fuzzy pass and "did you mean"
SORTS = ("quality", "reviews", "distance", "relevance")
POSTINGS_CACHE = 512
AREAS_CACHE = 512  # places searched (their geo cells' documents), per generation
EXPANSIONS_CACHE = 1024  # words with their near spellings in the index, per generation
GLOBAL_ORDER_MIN = 2000  # result sets larger than this walk the precomputed order


@dataclass(frozen=True)
class Query:
    text: str | None = None
    service: str | None = None
    country: str | None = None
    city: str | None = None
    max_price: int | None = None
    women: bool = False
    place: Place | None = None
    radius_km: int = 50
    sort: str = "quality"
    page: int = 1
    per_page: int = 20
    # Take the words as words: no place or country is read from them.
    literal: bool = False


@dataclass(frozen=True)
class Chip:
    """A filter read from the words, shown as a removable chip."""

    label: str  # "near London, GB", "in United Kingdom"
    words: str  # the words it was read from
    text_without: str  # the query's words without them (the chip's removal)


@dataclass(frozen=True)
class Note:
    """How an ambiguous word was read, with the other reading."""

    message: str
    other_text: str | None = None  # search these words literally instead
    other_place: str | None = None  # or near this place instead


@dataclass
class Hits:
    ids: list[int]  # clinic ids of the page, in order
    total: int
    distances: dict[int, float] = field(default_factory=dict)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)  # stemmed terms that matched (snippets)
    fuzzy: bool = False  # results come from the typo-tolerant pass
    suggestion: str | None = None  # "did you mean"
    partial: bool = False  # the time limit cut the search short
    elapsed_ms: float = 0.0
    place: Place | None = None  # the place searched around (given or read from the words)
    country: str | None = None  # the country filter (given or read from the words)
    chips: list[Chip] = field(default_factory=list)  # filters read from the words
    notes: list[Note] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # words that never restrict
    matching: int = 0  # results matching at least one of the remaining words
    words: str = ""  # the words searched for, without places and ignored words


def tokens(text: str | None) -> list[str]:
    """The user's words as index terms: analysed, de-duplicated, capped."""
    if not text:
        return []
    out: list[str] = []
    for t in ANALYZER(text[:400]):
        word = t.text
        if len(word) <= MAX_TOKEN_CHARS and word not in out:
            out.append(word)
        if len(out) >= MAX_TERMS:
            break
    return out


def raw_words(text: str | None) -> list[str]:
    if not text:
        return []
    return [t.text for t in SPELL_ANALYZER(text[:400])][:MAX_TERMS]


_NUMERIC = ("cid", "rank", "reviews", "lat", "lon", "svcmask")
_TEXT = ("country", "namekey")
_COLUMNS = _NUMERIC + _TEXT
# Signed NUMERIC columns store value + 2**63 (Whoosh's sortable encoding).
_SIGN_OFFSET = 1 << 63
# Column values of recent segments: a commit adds a small segment and leaves
# the others as they were, so a new generation reads only what is new.
_segment_columns: OrderedDict[tuple, dict[str, list]] = OrderedDict()


def _segment_values(leaf) -> dict[str, list]:
    segment = leaf.segment()
    # Segment ids are random and unique; a segment's columns never change.
    key = (segment.segment_id(), segment.doc_count_all())
    hit = _segment_columns.get(key)
    if hit is not None:
        _segment_columns.move_to_end(key)
        return hit
    values: dict[str, list] = {}
    for name in _NUMERIC:
        raw = leaf.column_reader(name, translate=False)
        values[name] = [v - _SIGN_OFFSET for v in raw]
    for name in _TEXT:
        values[name] = [b.decode("utf-8") for b in leaf.column_reader(name, translate=False)]
    _segment_columns[key] = values
    while len(_segment_columns) > 64:
        _segment_columns.popitem(last=False)
    return values


def _columns(reader) -> dict[str, list]:
    """Every column as one list indexed by docnum (leaf readers in docnum order)."""
    out: dict[str, list] = {name: [] for name in _COLUMNS}
    for leaf, offset in sorted(reader.leaf_readers(), key=lambda lo: lo[1]):
        assert offset == len(out["cid"])
        values = _segment_values(leaf)
        for name in _COLUMNS:
            out[name].extend(values[name])
    return out


_serials = itertools.count(1)


def to_bits(docs) -> int:
    """Docnums as one int with those bits set: sets of documents that are
    intersected, joined and counted in C (`&`, `|`, `int.bit_count`)."""
    if not docs:
        return 0
    buf = bytearray((max(docs) >> 3) + 1)
    for d in docs:
        buf[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(buf, "little")


class Snapshot:
    """Column arrays and cached posting sets of one index generation."""

    def __init__(self, searcher):
        self.serial = next(_serials)  # identifies the generation within this process
        self.searcher = searcher
        reader = searcher.reader()
        self.reader = reader
        self.doc_count = reader.doc_count_all()

        cols = _columns(reader) if self.doc_count else {name: [] for name in _COLUMNS}
        self.cid = cols["cid"]
        self.rank = cols["rank"]
        self.reviews = cols["reviews"]
        self.lat = cols["lat"]
        self.lon = cols["lon"]
        self.svcmask = cols["svcmask"]
        self.country = cols["country"]
        self.namekey = cols["namekey"]
        self.live = frozenset(reader.all_doc_ids()) if self.doc_count else frozenset()
        self.has_deletions = len(self.live) != self.doc_count
        self._postings: OrderedDict[tuple[str, str], frozenset[int]] = OrderedDict()
        self._weights: OrderedDict[tuple[str, str], dict[int, float]] = OrderedDict()
        self._relevance: OrderedDict[str, tuple[dict[int, float], list[int]]] = OrderedDict()
        self._field_lengths: dict[str, list[int]] = {}
        self._orders: dict[str, list[int]] = {}
        self._positions: dict[str, list[int]] = {}
        # A typed word -> the closest known word (engine._closest_word), bounded.
        self.closest: OrderedDict[str, str | None] = OrderedDict()
        # A word -> its near spellings in the index (_expand), bounded; thread-safe.
        self.expand = functools.lru_cache(maxsize=EXPANSIONS_CACHE)(self._expand)
        # The geo cells of a place and radius -> the documents in them (_in_cells).
        self.in_cells = functools.lru_cache(maxsize=AREAS_CACHE)(self._in_cells)
        # A term's documents, or a place's, as bits (to_bits), kept like their sets.
        self.bits = functools.lru_cache(maxsize=POSTINGS_CACHE)(self._bits)
        self.cells_bits = functools.lru_cache(maxsize=AREAS_CACHE)(self._cells_bits)
        self.all_facets: dict | None = None
        # Folded names of the cities and countries with clinics (engine._index_places).
        self.index_places: dict | None = None

    def postings(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        hit = self._postings.get(key)
        if hit is not None:
            self._postings.move_to_end(key)
            return hit
        ids = self._read_postings(fieldname, text)
        self._postings[key] = ids
        if len(self._postings) > POSTINGS_CACHE:
            self._postings.popitem(last=False)
        return ids

    def _read_postings(self, fieldname: str, text: str) -> frozenset[int]:
        try:
            ids = frozenset(self.reader.postings(fieldname, text).all_ids())
        except Exception:  # noqa: BLE001 - TermNotFound: no document has it
            ids = frozenset()
        if self.has_deletions:
            ids = ids & self.live  # without deleted documents
        return ids

    def _in_cells(self, cells: tuple[str, ...]) -> frozenset[int]:
        """Documents in any of the geo cells (`in_cells` keeps them per generation:
        the up to 36 cells of a place and radius, as one set, so the cells do not
        crowd the words out of the postings cache)."""
        found: set[int] = set()
        for cell in cells:
            found |= self._read_postings("geo", cell)
        return frozenset(found)

    def _bits(self, fieldname: str, text: str) -> int:
        return to_bits(self.postings(fieldname, text))

    def _cells_bits(self, cells: tuple[str, ...]) -> int:
        return to_bits(self.in_cells(cells))

    @functools.cached_property
    def quality_share(self) -> list[float]:
        """Each document's score as a share of the best (rank is the score in
        thousandths, 0 to 5000; unrated counts 0): the "best match" blend's column."""
        return [max(0, r) / 5000 for r in self.rank]

    @functools.cached_property
    def live_bits(self) -> int:
        return to_bits(self.live)

    @functools.cached_property
    def facet_bits(self) -> tuple[dict[str, int], dict[int, int]]:
        """The live documents of each country and of each service bit, as bits
        (once per generation): a result's facets are a count per country and
        service of its own bits ANDed with these."""
        by_country: dict[str, list[int]] = {}
        by_mask: dict[int, list[int]] = {}
        country, mask = self.country, self.svcmask
        for d in self.live:
            by_country.setdefault(country[d], []).append(d)
            by_mask.setdefault(mask[d], []).append(d)
        countries = {cc: to_bits(docs) for cc, docs in by_country.items()}
        services: dict[int, int] = {}
        for m, docs in by_mask.items():
            bits = to_bits(docs)
            for bit in range(m.bit_length()):
                if m >> bit & 1:
                    services[1 << bit] = services.get(1 << bit, 0) | bits
        return countries, services

    BOOST = {"name": 3.0, "text": 1.0}
    K1, B = 1.2, 0.75

    def term_weights(self, fieldname: str, text: str) -> dict[int, float]:
        """BM25 weight of the term in each document holding it (cached per generation)."""
        key = (fieldname, text)
        hit = self._weights.get(key)
        if hit is not None:
            self._weights.move_to_end(key)
            return hit
        reader = self.reader
        out: dict[int, float] = {}
        try:
            matcher = reader.postings(fieldname, text)
        except Exception:  # noqa: BLE001 - TermNotFound
            matcher = None
        if matcher is not None and self.doc_count:
            lengths = self._lengths(fieldname)
            avg = (sum(lengths) / len(lengths)) or 1.0
            df = reader.doc_frequency(fieldname, text)
            idf = math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5))
            k1, b, boost = self.K1, self.B, self.BOOST[fieldname]
            # The matcher's own id/weight/next: the same (id, weight) pairs as
            # items_as("weight") without decoding each posting's value (40 % faster
            # on a word most clinics hold, read once per generation).
            ident, weight, step = matcher.id, matcher.weight, matcher.next
            while matcher.is_active():
                d, tf = ident(), weight()
                norm = k1 * (1 - b + b * lengths[d] / avg)
                out[d] = boost * idf * tf * (k1 + 1) / (tf + norm)
                step()
        self._weights[key] = out
        if len(self._weights) > 128:
            self._weights.popitem(last=False)
        return out

    def add_relevance(self, text: list[float], docs: list[int], term: str) -> list[float]:
        """`text` (one value per document of `docs`) plus the term's BM25F weight in
        each document's name, then in its text: the one way "best match" adds up a
        document's text relevance, in C."""
        for fieldname in ("name", "text"):
            weights = self.term_weights(fieldname, term)
            if weights:
                text = list(map(add, text, map(weights.get, docs, repeat(0.0))))
        return text

    def word_relevance(self, term: str) -> tuple[dict[int, float], list[int]]:
        """For "best match" on one word: each document holding it with its text
        relevance (the BM25F weights of the name and of the text, added as
        engine._best_match adds them), and those documents by it, highest first
        (kept per generation, like the weights)."""
        hit = self._relevance.get(term)
        if hit is not None:
            self._relevance.move_to_end(term)
            return hit
        docs = list(self.postings("text", term))
        relevance = dict(zip(docs, self.add_relevance([0.0] * len(docs), docs, term), strict=True))
        found = (relevance, sorted(docs, key=relevance.__getitem__, reverse=True))
        self._relevance[term] = found
        if len(self._relevance) > 64:
            self._relevance.popitem(last=False)
        return found

    def _lengths(self, fieldname: str) -> list[int]:
        if fieldname not in self._field_lengths:
            length = self.reader.doc_field_length
            self._field_lengths[fieldname] = [
                length(d, fieldname, 1) for d in range(self.doc_count)
            ]
        return self._field_lengths[fieldname]

    def has_term(self, fieldname: str, text: str) -> bool:
        return (fieldname, text) in self.reader

    def _expand(self, text: str, maxdist: int = 1, prefix: int = 1) -> tuple[str, ...]:
        """Index terms within maxdist edits of text that keep its first letters (a
        Levenshtein walk of the term list; `expand` keeps them per generation)."""
        found: list[str] = []
        try:
            for term in self.reader.terms_within("text", text, maxdist, prefix=prefix):
                found.append(term)
                if len(found) >= MAX_EXPANSIONS:
                    break
        except Exception:  # noqa: BLE001
            found = []
        return tuple(found) or (text,)

    def order(self, name: str) -> list[int]:
        """Every live document in the quality or reviews order (cached per generation)."""
        if name not in self._orders:
            key = self.reviews_key if name == "reviews" else self.quality_key
            self._orders[name] = sorted(self.live, key=key)
        return self._orders[name]

    def position(self, name: str) -> list[int]:
        """Each docnum's place in order(name) (cached per generation): a sort by
        position is the same sort as by quality_key or reviews_key, with an int
        per document instead of a tuple built in Python."""
        if name not in self._positions:
            pos = [len(self.cid)] * len(self.cid)
            for i, d in enumerate(self.order(name)):
                pos[d] = i
            self._positions[name] = pos
        return self._positions[name]

    # Sort keys over docnums.
    def quality_key(self, d):
        """quality.ranking_key over the index's columns (rank = quality.score_rank,
        namekey = quality.name_key)."""
        return (-self.rank[d], -self.reviews[d], self.namekey[d], self.cid[d])

    def reviews_key(self, d):
        return (-self.reviews[d], -self.rank[d], self.namekey[d], self.cid[d])


def _cells(place: Place, radius_km: float) -> tuple[float, list[str]] | None:
    """Geo cells covering the circle, at the finest level with few cells."""
    dlat = radius_km / 111.0
    coslat = max(0.05, math.cos(math.radians(place.latitude)))
    dlon = min(180.0, radius_km / (111.0 * coslat))
    for level in GEO_LEVELS:
        lat_lo = math.floor((place.latitude - dlat) / level)
        lat_hi = math.floor((place.latitude + dlat) / level)
        lon_lo = math.floor((place.longitude - dlon) / level)
        lon_hi = math.floor((place.longitude + dlon) / level)
        n = (lat_hi - lat_lo + 1) * (lon_hi - lon_lo + 1)
        if n <= 36:
            cells = []
            for a in range(lat_lo, lat_hi + 1):
                for b in range(lon_lo, lon_hi + 1):
                    # Longitudes wrap around the antimeridian.
                    b_wrapped = ((b * level + 180) % 360 - 180) / level
                    cells.append(geo_cell(level, a * level, math.floor(b_wrapped) * level))
            return level, cells
    return None
