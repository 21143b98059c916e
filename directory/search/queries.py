"""Running a visitor's search against the index.

Queries are never parsed: the user's words go through the index's analyser,
are capped in length and number, and become plain term look-ups, so no field
syntax, wildcard, range or fuzzy operator typed by a user reaches Whoosh
(SECURITY.md 27-28). Filters are keyword terms; matching, filtering, facet
counts and the quality/review/distance orders are computed over cached
posting sets and column arrays of the current index generation; the
best-match order uses BM25F weights cached per term. Every step is bounded
(terms, expansions, one pass per posting list) and checked against the
SEARCH_TIME_LIMIT_S deadline; past it, the page says results may be incomplete.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from directory import vocab

from .documents import GEO_LEVELS, SERVICE_BITS, geo_cell
from .gazetteer import Place, haversine_km
from .schema import ANALYZER, NO_COORD, SPELL_ANALYZER

MAX_TERMS = 8
MAX_TOKEN_CHARS = 40
MAX_EXPANSIONS = 24  # fuzzy alternatives per word
FEW = 3  # fewer strict matches than this triggers the fuzzy pass and "did you mean"
SORTS = ("quality", "reviews", "distance", "relevance")
POSTINGS_CACHE = 512
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
        self._field_lengths: dict[str, list[int]] = {}
        self._orders: dict[str, list[int]] = {}
        self.facet_key = list(zip(self.country, self.svcmask, strict=True))
        self.all_facets: dict | None = None

    def postings(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        hit = self._postings.get(key)
        if hit is not None:
            self._postings.move_to_end(key)
            return hit
        try:
            ids = frozenset(self.reader.postings(fieldname, text).all_ids())
        except Exception:  # noqa: BLE001 - TermNotFound: no document has it
            ids = frozenset()
        if self.has_deletions:
            ids = ids & self.live  # cached without deleted documents
        self._postings[key] = ids
        if len(self._postings) > POSTINGS_CACHE:
            self._postings.popitem(last=False)
        return ids

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
            for d, tf in matcher.items_as("weight"):
                norm = k1 * (1 - b + b * lengths[d] / avg)
                out[d] = boost * idf * tf * (k1 + 1) / (tf + norm)
        self._weights[key] = out
        if len(self._weights) > 128:
            self._weights.popitem(last=False)
        return out

    def _lengths(self, fieldname: str) -> list[int]:
        if fieldname not in self._field_lengths:
            length = self.reader.doc_field_length
            self._field_lengths[fieldname] = [
                length(d, fieldname, 1) for d in range(self.doc_count)
            ]
        return self._field_lengths[fieldname]

    def has_term(self, fieldname: str, text: str) -> bool:
        return (fieldname, text) in self.reader

    def expand(self, text: str, maxdist: int = 1, prefix: int = 1) -> list[str]:
        """Index terms within maxdist edits of text that keep its first letters."""
        found: list[str] = []
        try:
            for term in self.reader.terms_within("text", text, maxdist, prefix=prefix):
                found.append(term)
                if len(found) >= MAX_EXPANSIONS:
                    break
        except Exception:  # noqa: BLE001
            return [text]
        return found or [text]

    def order(self, name: str) -> list[int]:
        """Every live document in the quality or reviews order (cached per generation)."""
        if name not in self._orders:
            key = self.reviews_key if name == "reviews" else self.quality_key
            self._orders[name] = sorted(self.live, key=key)
        return self._orders[name]

    # Sort keys over docnums.
    def quality_key(self, d):
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


class Engine:
    def __init__(self, snapshot: Snapshot, time_limit_s: float = 0.5):
        self.s = snapshot
        self.time_limit_s = time_limit_s

    def _filter_set(self, q: Query) -> set[int] | frozenset[int]:
        s = self.s
        sets: list[frozenset[int]] = []
        if q.service:
            sets.append(s.postings("service", q.service))
        if q.country:
            sets.append(s.postings("country", q.country.upper()))
        if q.city:
            sets.append(s.postings("city", q.city.casefold()))
        if q.max_price:
            sets.append(s.postings("price", f"le{q.max_price}"))
        if q.women:
            sets.append(s.postings("women", "1"))
        if q.place is not None:
            cover = _cells(q.place, q.radius_km)
            if cover is not None:
                _, cells = cover
                union: set[int] = set()
                for cell in cells:
                    union |= s.postings("geo", cell)
                sets.append(frozenset(union))
        if not sets:
            return s.live
        sets.sort(key=len)
        result = set(sets[0])
        for other in sets[1:]:
            result &= other
        return result

    def _text_set(self, words: list[list[str]], deadline: float) -> set[int] | None:
        """Documents holding every word (any of its alternatives); None for no words."""
        if not words:
            return None
        result: frozenset[int] | set[int] | None = None
        for alternatives in words:
            if len(alternatives) == 1:
                union = self.s.postings("text", alternatives[0])
            else:
                union = set()
                for term in alternatives:
                    union |= self.s.postings("text", term)
                    if time.perf_counter() > deadline:
                        break
            result = union if result is None else result & union
            if not result:
                return set()
        return result

    def run(self, q: Query) -> Hits:
        started = time.perf_counter()
        deadline = started + self.time_limit_s
        s = self.s
        toks = tokens(q.text)
        base = self._filter_set(q)
        words = [[t] for t in toks]
        text_set = self._text_set(words, deadline)
        # Posting sets are cached without deleted documents; so are filter sets.
        if text_set is None:  # noqa: SIM108 - clearer as two cases
            matched = base
        else:
            matched = text_set if base is s.live else text_set & base
        hits = Hits([], 0, terms=list(toks))
        exact: set[int] | frozenset[int] = matched
        if toks and len(matched) < FEW:
            # Few strict matches: add near spellings (one edit, first letter
            # kept); the strict matches stay first in every order.
            hits.suggestion = self._did_you_mean(q.text)
            fuzzy_words = [s.expand(t) for t in toks]
            corrected = tokens(hits.suggestion)
            if len(corrected) == len(toks):
                # The corrected word's stem may be further than one edit away.
                for alts, better in zip(fuzzy_words, corrected, strict=True):
                    if better not in alts:
                        alts.append(better)
            fuzzy_set = self._text_set(fuzzy_words, deadline) or set()
            fuzzy_matched = fuzzy_set if base is s.live else fuzzy_set & base
            if len(fuzzy_matched) > len(matched):
                matched, words, hits.fuzzy = fuzzy_matched | matched, fuzzy_words, True
                hits.terms = [t for alts in fuzzy_words for t in alts]

        distances: dict[int, float] = {}
        if q.place is not None:
            within = set()
            plat, plon = q.place.latitude, q.place.longitude
            for d in matched:
                if s.lat[d] == NO_COORD:
                    continue
                km = haversine_km(plat, plon, s.lat[d] / 1e6, s.lon[d] / 1e6)
                if km <= q.radius_km:
                    within.add(d)
                    distances[d] = km
            matched = within

        hits.total = len(matched)
        hits.facets = self._facets(matched)
        offset = (q.page - 1) * q.per_page
        need = offset + q.per_page
        if q.sort == "relevance" and words:
            order = self._scored(
                words, matched, exact if hits.fuzzy else set(), need, hits, deadline
            )
        else:
            if q.sort == "distance" and q.place is not None:

                def key(d):
                    return (distances[d], -s.rank[d], s.namekey[d], s.cid[d])
            elif q.sort == "reviews":
                key = s.reviews_key
            else:
                key = s.quality_key
            if hits.fuzzy and exact:
                inner = key

                def key(d):
                    return (d not in exact, inner(d))

            global_order = None
            if (
                len(matched) > GLOBAL_ORDER_MIN
                and not (hits.fuzzy and exact)
                and q.sort != "distance"
            ):
                global_order = s.order("reviews" if q.sort == "reviews" else "quality")
            if global_order is not None:
                # A large result set: walk the generation's precomputed order.
                order = []
                for d in global_order:
                    if d in matched:
                        order.append(d)
                        if len(order) >= need:
                            break
            elif need < len(matched) // 2:
                order = heapq.nsmallest(need, matched, key=key)
            else:
                order = sorted(matched, key=key)
        page = order[offset:need]
        hits.ids = [s.cid[d] for d in page]
        hits.distances = {s.cid[d]: distances[d] for d in page if d in distances}
        hits.partial = hits.partial or time.perf_counter() > deadline
        hits.elapsed_ms = (time.perf_counter() - started) * 1000
        return hits

    def _scored(
        self, words: list[list[str]], matched, exact, need: int, hits: Hits, deadline: float
    ):
        """Best text match first: BM25F over the boosted name and the text.

        Scores come from per-term weight vectors cached for the index generation,
        so a broad word costs one pass over its postings per generation instead
        of a scoring pass per query (PERFORMANCE.md: Whoosh's own scorer took
        60-120 ms for a common word at 2,000 clinics).
        """
        s = self.s
        if not matched:
            return []
        score: dict[int, float] = dict.fromkeys(matched, 0.0)
        for alts in words:
            for term in alts:
                for fieldname in ("name", "text"):
                    for d, w in s.term_weights(fieldname, term).items():
                        if d in score:
                            score[d] += w
                if time.perf_counter() > deadline:
                    hits.partial = True
                    break
        return heapq.nsmallest(
            need, matched, key=lambda d: (d not in exact, -score[d], -s.rank[d], s.cid[d])
        )

    def _facets(self, matched) -> dict[str, dict[str, int]]:
        s = self.s
        if matched is s.live and s.all_facets is not None:
            return s.all_facets
        # One pass in C over a (country, services) key per document, then a
        # pass over the few distinct keys.
        combos = Counter(map(s.facet_key.__getitem__, matched))
        countries: Counter[str] = Counter()
        services: Counter[str] = Counter()
        for (country, mask), n in combos.items():
            countries[country] += n
            for key, bit in SERVICE_BITS.items():
                if mask & bit:
                    services[key] += n
        facets = {
            "service": {k: services[k] for k in vocab.SERVICES if services.get(k)},
            "country": dict(sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
        if matched is s.live:
            s.all_facets = facets
        return facets

    def _did_you_mean(self, text: str | None) -> str | None:
        words = raw_words(text)
        if not words:
            return None
        s = self.s
        changed = False
        out = []
        for w in words:
            if len(w) >= 3 and not s.has_term("spell", w):
                best = self._closest_word(w)
                if best and best != w:
                    out.append(best)
                    changed = True
                    continue
            out.append(w)
        return " ".join(out) if changed else None

    def _closest_word(self, word: str) -> str | None:
        """The most frequent known word one edit away, else two (first letter kept)."""
        reader = self.s.reader
        for dist in (1, 2):
            try:
                found = []
                for term in reader.terms_within("spell", word, dist, prefix=1):
                    found.append(term)
                    if len(found) >= 50:
                        break
            except Exception:  # noqa: BLE001
                return None
            if found:
                return max(found, key=lambda t: (reader.doc_frequency("spell", t), t))
        return None

    def suggest_names(self, prefix: str, limit: int = 5) -> list[int]:
        """Clinic ids whose name has a word starting with the prefix, best first."""
        toks = tokens(prefix)
        if not toks:
            return []
        s = self.s
        *full, last = toks
        found: set[int] | None = None
        for t in full:
            ids = s.postings("name", t)
            found = set(ids) if found is None else found & ids
        expansions: set[int] = set()
        for n, term in enumerate(s.reader.expand_prefix("name", last)):
            expansions |= s.postings("name", term if isinstance(term, str) else term.decode())
            if n >= 49:
                break
        found = expansions if found is None else found & expansions
        found &= s.live
        return [s.cid[d] for d in heapq.nsmallest(limit, found, key=s.quality_key)]
