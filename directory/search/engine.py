"""Running a visitor's search against the index, in named steps.

    plan    what the words mean (understand.read), with each ambiguous place
            word resolved by what the index supports
    filter  keyword filters (service, country, city, price, women, geo cells)
    match   soft matching: each remaining concept adds to a clinic's cover
    fuzzy   near spellings (one edit) for concepts nothing matched exactly
    geo     the exact distance for a place, keeping what lies in the radius
    order   more of the words first, then quality (or testimonials, distance);
            "best match" blends text relevance with quality
    facets  service and country counts of the result

Queries are never parsed: the user's words go through the vocabulary and the
index's analyser, are capped in length and number, and become plain term
look-ups, so no field syntax, wildcard, range or fuzzy operator typed by a
user reaches Whoosh. Every step is bounded (terms, expansions, one pass per
posting list) and checked against the SEARCH_TIME_LIMIT_S deadline; past it,
the page says results may be incomplete.
"""

from __future__ import annotations

import difflib
import heapq
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, countOf, mul, neg, truediv

from directory import vocab

from . import gazetteer, understand
from .documents import SERVICE_BITS, word_pairs
from .gazetteer import Place, fold, haversine_km
from .queries import (
    GLOBAL_ORDER_MIN,
    MAX_EXPANSIONS,
    Chip,
    Hits,
    Note,
    Query,
    Snapshot,
    _cells,
    raw_words,
    to_bits,
    tokens,
)
from .schema import NO_COORD

MAX_CONCEPTS = 8
SERVICE_TEXT_WEIGHT = 0.5  # a service named in the text, not listed as offered
FUZZY_WEIGHT = 0.9  # a near spelling counts a little less than the word itself
PAIR_WEIGHT = 0.5  # two words found side by side in a name
FUZZY_PLACE_CUTOFF = 0.8  # difflib ratio for a misspelt place
MAX_PLACE_SPANS = 12  # word spans tried as a misspelt place
CLOSEST_CACHE = 1024  # typed words remembered with their closest known word, per generation
BLEND_TEXT, BLEND_QUALITY = 0.5, 0.3  # "best match": cover + text relevance + quality


@dataclass
class _Concept:
    words: str
    stems: list[str]
    service: str | None = None
    alternatives: list[str] = field(default_factory=list)  # fuzzy stems
    exact: bool = True
    start: int = 0  # word position in the query


@dataclass
class Plan:
    """What is searched for, after reading the words."""

    concepts: list[_Concept]
    place: Place | None
    country: str | None
    keep_unmatched: bool  # a place alone identifies what the user wants
    ignored_stems: list[str]
    chips: list[Chip] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


@dataclass
class _Where:
    """Where to search, while the words are read (Engine.plan)."""

    place: Place | None
    country: str | None
    concepts: list[understand.Concept]
    chips: list[Chip] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def near(self, place: Place, pr, reading) -> None:
        self.place = place
        self.chips.append(Chip(f"near {place.label}", pr.words, reading.text_without(pr)))

    def within(self, country: str, pr, reading) -> None:
        self.country = country
        label = f"in {gazetteer.country_name(country)}"
        self.chips.append(Chip(label, pr.words, reading.text_without(pr)))

    def as_words(self, pr) -> None:
        self.concepts.append(understand.Concept(pr.words, start=pr.start))


def _add_cover(cover: dict[int, float], docs, weights) -> None:
    """cover[d] += weight for each document and its weight (an iterable in the
    order of docs), added in C: docs is a set or view not changed meanwhile."""
    cover.update(zip(docs, map(add, map(cover.get, docs, repeat(0.0)), weights), strict=False))


class Engine:
    def __init__(self, snapshot: Snapshot, time_limit_s: float = 0.5):
        self.s = snapshot
        self.time_limit_s = time_limit_s

    def run(self, q: Query) -> Hits:
        started = time.perf_counter()
        deadline = started + self.time_limit_s
        plan = self.plan(q)
        hits = Hits([], 0, place=plan.place, country=plan.country)
        hits.chips, hits.notes, hits.ignored = plan.chips, plan.notes, plan.ignored
        hits.words = " ".join(c.words for c in plan.concepts)
        base, base_bits = self.filter(q, plan)
        cover, cover_bits = self.match(plan, base, base_bits, deadline)
        fuzzy_bits = self.fuzzy(plan, base, base_bits, cover, deadline)
        if fuzzy_bits:
            hits.fuzzy = True
            hits.suggestion = self._did_you_mean(q.text, plan)
        candidates = self._candidates(plan, base, cover)
        matched, distances = self.geo(plan, q.radius_km, candidates)
        hits.terms = [t for c in plan.concepts for t in (c.stems + c.alternatives)]
        hits.total = len(matched)
        if candidates is not base:  # the documents the words matched: each has cover
            hits.matching = len(matched)
            matched_bits = cover_bits | fuzzy_bits
        else:  # every document in the filters (and radius), matched by the words or not
            hits.matching = sum(map(bool, map(cover.get, matched))) if cover else 0
            matched_bits = None if plan.place is not None else base_bits
        hits.facets = self.facets(matched, matched_bits)
        offset = (q.page - 1) * q.per_page
        need = offset + q.per_page
        order = self.order(q, plan, matched, cover, distances, need, hits, deadline)
        page = order[offset:need]
        hits.ids = [self.s.cid[d] for d in page]
        hits.distances = {self.s.cid[d]: distances[d] for d in page if d in distances}
        hits.partial = hits.partial or time.perf_counter() > deadline
        hits.elapsed_ms = (time.perf_counter() - started) * 1000
        return hits

    # ------------------------------------------------------------------ plan

    def plan(self, q: Query) -> Plan:
        reading = understand.read(q.text)
        where = _Where(
            q.place,
            q.country,
            [understand.Concept(c.words, c.service, c.start) for c in reading.concepts],
        )
        if not q.literal and not q.city:
            self._read_places(reading, where, q.radius_km)
        else:  # literal words, or a city chosen on the form: place names stay words
            for pr in sorted(reading.places, key=lambda pr: pr.country is None):
                where.as_words(pr)  # countries first, as _read_places reads them
        return Plan(
            concepts=self._concepts(where.concepts),
            place=where.place,
            country=where.country,
            keep_unmatched=bool(where.place or where.country or q.city),
            ignored_stems=[t for w in reading.ignored for t in tokens(w)],
            chips=where.chips,
            notes=where.notes,
            ignored=list(reading.ignored),
        )

    def _read_places(self, reading, where: _Where, radius_km: float) -> None:
        """Place names among the words: the first country read (unless the form chose
        one) and the first city found (unless the form chose a place) say where to
        search; other place names stay words. With neither, a misspelt place."""
        for pr in reading.places:
            if pr.country is None:
                continue
            if where.country is None:
                where.within(pr.country, pr, reading)
            else:
                where.as_words(pr)
        for pr in reading.places:
            if pr.country is not None:
                continue
            chosen = None
            if where.place is None:
                chosen = self._city_reading(pr, where.country, radius_km, reading, where.notes)
            if chosen is None:
                where.as_words(pr)
            else:
                where.near(chosen, pr, reading)
        if where.place is None and where.country is None:
            found = self._misspelt_place(where.concepts, reading)
            if found is not None:
                where.concepts, pr, found_place, found_country = found
                if found_place is not None:
                    where.near(found_place, pr, reading)
                else:
                    where.within(found_country, pr, reading)

    def _concepts(self, concepts: list[understand.Concept]) -> list[_Concept]:
        out: list[_Concept] = []
        services_seen: set[str] = set()
        for c in sorted(concepts, key=lambda c: c.start):
            if c.service is not None:
                if c.service in services_seen:
                    continue
                services_seen.add(c.service)
            stems = tokens(c.words)
            if not stems and c.service is None:
                continue  # a stop word or a lone letter
            out.append(_Concept(c.words, stems, c.service, start=c.start))
            if len(out) >= MAX_CONCEPTS:
                break
        return out

    def _near(self, place: Place, radius_km: float) -> set[int]:
        s = self.s
        cover = _cells(place, radius_km)
        if cover is None:
            return set(s.live)
        found = set()
        for d in s.in_cells(tuple(cover[1])):
            if s.lat[d] == NO_COORD:
                continue
            km = haversine_km(place.latitude, place.longitude, s.lat[d] / 1e6, s.lon[d] / 1e6)
            if km <= radius_km:
                found.add(d)
        return found

    def _word_docs(self, words: str) -> set[int]:
        stems = tokens(words)
        if not stems:
            return set()
        found = set(self.s.postings("text", stems[0]))
        for t in stems[1:]:
            found &= self.s.postings("text", t)
        return found

    def _city_reading(self, pr, country, radius_km, reading, notes) -> Place | None:
        """The place a city reading stands for, or None to read the words as words.

        An alias, a name of several words or a city with its country ("london
        canada") is a place. A single word is read by what the index and the
        rest of the query support: the place when clinics are near it and the
        word describes no clinic elsewhere; the word when no clinic is near the
        place but the word, or the rest of the query, finds clinics ("Meridian"
        is a clinic's name and a town in Idaho; "nice hairline"); when both
        readings find clinics, the place. A note offers the other reading.
        """
        place = gazetteer.in_country(pr.places, country)
        if place is None:
            return None
        if pr.strong or country is not None:
            return place  # an alias, several words, or qualified by a country
        near = self._near(place, radius_km)
        elsewhere = self._word_docs(pr.words) - near
        others = len(reading.concepts) > 0
        if not elsewhere and (near or not others):
            return place
        typed = " ".join(reading.words[pr.start : pr.end])
        if near:
            notes.append(
                Note(
                    f"“{typed}” is read as the place {place.label}.",
                    other_text=" ".join(reading.words),
                )
            )
            return place
        notes.append(
            Note(
                f"“{typed}” is read as a word: no clinic is listed near {place.label}.",
                other_place=place.label,
                other_text=reading.text_without(pr),
            )
        )
        return None

    def _index_places(self) -> dict[str, tuple[Place | None, str | None]]:
        """Folded names of the cities and countries that have clinics (cached per
        generation): the candidates for a misspelt place."""
        s = self.s
        if s.index_places is None:
            found: dict[str, tuple[Place | None, str | None]] = {}
            try:
                cities = [t if isinstance(t, str) else t.decode() for t in s.reader.lexicon("city")]
            except Exception:  # noqa: BLE001 - an empty index has no such field
                cities = []
            for city in cities[:5000]:
                docs = s.postings("city", city)
                if not docs:
                    continue
                cc = s.country[next(iter(docs))]
                place = gazetteer.in_country(gazetteer.exact(fold(city)), cc)
                if place is not None:
                    found[fold(city)] = (place, None)
            for cc in set(s.country):
                if cc:
                    found.setdefault(fold(gazetteer.country_name(cc)), (None, cc))
            s.index_places = found
        return s.index_places

    def _misspelt_place(self, concepts, reading):
        """A misspelt city or country with clinics among the plain words ("londn",
        "los angelas"): two neighbouring words first, then one. Words the index
        knows as they are spelt are left alone."""
        known = self._index_places()
        if not known:
            return None
        plain = [c for c in concepts if c.service is None]
        by_start = {c.start: c for c in plain}
        spans = [(c.start, 2) for c in plain if c.start + 1 in by_start]
        spans += [(c.start, 1) for c in plain]
        for start, n in spans[:MAX_PLACE_SPANS]:
            words = " ".join(reading.words[start : start + n])
            if len(words.replace(" ", "")) < 5:
                continue
            if n == 1 and self.s.has_term("spell", words):
                continue
            # Same first letter, about the same length: a short list for difflib.
            pool = [k for k in known if k[0] == words[0] and abs(len(k) - len(words)) <= 2]
            close = difflib.get_close_matches(words, pool, n=3, cutoff=FUZZY_PLACE_CUTOFF)
            if not close:
                continue
            place, country = known[close[0]]
            rest = [c for c in concepts if not start <= c.start < start + n]
            pr = understand.PlaceReading(words, start=start, end=start + n)
            if place is not None:
                place = Place(
                    place.name,
                    place.country,
                    place.latitude,
                    place.longitude,
                    place.population,
                    approximate=True,
                )
            return rest, pr, place, country
        return None

    # ---------------------------------------------------------------- filter

    def filter(self, q: Query, plan: Plan) -> tuple[set[int] | frozenset[int], int]:
        """Documents passing every keyword filter (geo cells are a coarse cover),
        as a set and as bits."""
        s = self.s
        terms: list[tuple[str, str]] = []
        if q.service:
            terms.append(("service", q.service))
        if plan.country:
            terms.append(("country", plan.country.upper()))
        if q.city:
            terms.append(("city", q.city.casefold()))
        if q.max_price:
            terms.append(("price", f"le{q.max_price}"))
        if q.women:
            terms.append(("women", "1"))
        sets = [s.postings(*t) for t in terms]
        bits = [s.bits(*t) for t in terms]
        if plan.place is not None:
            cover = _cells(plan.place, q.radius_km)
            if cover is not None:
                sets.append(s.in_cells(tuple(cover[1])))
                bits.append(s.cells_bits(tuple(cover[1])))
        if not sets:
            return s.live, s.live_bits
        sets.sort(key=len)
        result = set(sets[0])
        for other in sets[1:]:
            result &= other
        result_bits = bits[0]
        for other_bits in bits[1:]:
            result_bits &= other_bits
        return result, result_bits

    # ----------------------------------------------------------------- match

    def _concept_weights(self, c: _Concept, stems: list[str]) -> tuple[dict[int, float], int]:
        """The documents the concept matches with their weight (a new dict), and as bits."""
        s = self.s
        out: dict[int, float] = {}
        bits = 0
        if stems:
            found = s.postings("text", stems[0])
            bits = s.bits("text", stems[0])
            for t in stems[1:]:
                found = found & s.postings("text", t)
                bits &= s.bits("text", t)
            weight = SERVICE_TEXT_WEIGHT if c.service else 1.0
            out = dict.fromkeys(found, weight)
        if c.service:
            out.update(dict.fromkeys(s.postings("service", c.service), 1.0))
            bits |= s.bits("service", c.service)
        return out, bits

    def match(self, plan: Plan, base, base_bits: int, deadline: float):
        """Each document's cover: how much of the remaining words it matches; and
        the documents with cover as bits."""
        cover: dict[int, float] = {}
        cover_bits = 0
        restrict = base is not self.s.live
        for c in plan.concepts:
            weights, bits = self._concept_weights(c, c.stems)
            if restrict:
                docs = weights.keys() & base
                bits &= base_bits
            else:
                docs = weights.keys()
            cover_bits |= bits
            if not cover:  # the first words matched: their weights (copied in C)
                cover = (
                    weights
                    if not restrict
                    else dict(zip(docs, map(weights.get, docs), strict=True))
                )
            else:
                _add_cover(cover, docs, map(weights.__getitem__, docs))
            c.exact = bool(docs)
            if time.perf_counter() > deadline:
                break
        # Two plain words side by side that a clinic's name or a practitioner's
        # name holds side by side ("elif hassan"): a little more cover.
        plain = {c.start: c for c in plan.concepts if c.service is None}
        for start, c in plain.items():
            after = plain.get(start + 1)
            if after is None:
                continue
            for term in tokens(word_pairs(f"{c.words} {after.words}")):
                docs = self.s.postings("text", term)
                _add_cover(cover, docs & base if restrict else docs, repeat(PAIR_WEIGHT))
                cover_bits |= self.s.bits("text", term) & base_bits
        return cover, cover_bits

    def fuzzy(self, plan: Plan, base, base_bits: int, cover: dict[int, float], deadline) -> int:
        """Near spellings for plain words nothing matched exactly: the documents
        they added to the cover, as bits (0 when none helped)."""
        s = self.s
        helped = 0
        restrict = base is not s.live
        for c in plan.concepts:
            if c.exact or c.service or len(c.stems) != 1 or len(c.words) < 4:
                continue
            stem = c.stems[0]
            alts = [t for t in s.expand(stem) if t != stem][:MAX_EXPANSIONS]
            better = self._closest_word(c.words)
            if better:
                alts.extend(t for t in tokens(better) if t not in alts and t != stem)
            found: set[int] = set()
            found_bits = 0
            for t in alts:
                found |= s.postings("text", t)
                found_bits |= s.bits("text", t)
                if time.perf_counter() > deadline:
                    break
            if restrict:
                found &= base
            if found:
                c.alternatives = alts
                helped |= found_bits & base_bits
                _add_cover(cover, found, repeat(FUZZY_WEIGHT))
        return helped

    def _candidates(self, plan: Plan, base, cover: dict[int, float]):
        if not plan.concepts:
            return base
        if plan.keep_unmatched:
            return base
        return list(cover)  # match() and fuzzy() keep the cover within the filters

    # ------------------------------------------------------------------- geo

    def geo(self, plan: Plan, radius_km: float, candidates):
        """The exact distance to the place; documents outside the radius go."""
        if plan.place is None:
            return candidates, {}
        s = self.s
        distances: dict[int, float] = {}
        plat, plon = plan.place.latitude, plan.place.longitude
        for d in candidates:
            if s.lat[d] == NO_COORD:
                continue
            km = haversine_km(plat, plon, s.lat[d] / 1e6, s.lon[d] / 1e6)
            if km <= radius_km:
                distances[d] = km
        return set(distances), distances

    # ----------------------------------------------------------------- order

    def order(self, q, plan, matched, cover, distances, need, hits, deadline) -> list[int]:
        s = self.s
        if q.sort == "relevance" and plan.concepts:
            return self._best_match(plan, matched, cover, need, hits, deadline)
        if q.sort == "distance" and plan.place is not None:

            def base_key(d):
                return (distances[d], -s.rank[d], s.namekey[d], s.cid[d])
        elif q.sort == "reviews":
            base_key = s.position("reviews").__getitem__
        else:
            base_key = s.position("quality").__getitem__
        if not plan.concepts:
            if len(matched) > GLOBAL_ORDER_MIN and q.sort != "distance":
                # A large result set: walk the generation's precomputed order.
                order = []
                for d in s.order("reviews" if q.sort == "reviews" else "quality"):
                    if d in matched:
                        order.append(d)
                        if len(order) >= need:
                            break
                return order
            if need < len(matched) // 2:
                return heapq.nsmallest(need, matched, key=base_key)
            return sorted(matched, key=base_key)
        # Best cover first, then the clinics whose name holds the words, then the
        # sort. The keys are built and compared in C (zip and map over the
        # documents), not by a Python key function per matched document.
        names = self._name_cover(plan, matched)
        if q.sort != "distance" and len(matched) > GLOBAL_ORDER_MIN:
            page = self._top_cover_page(q, matched, cover, names, base_key, need)
            if page is not None:
                return page
        keyed = zip(
            map(neg, map(cover.get, matched, repeat(0.0))),
            map(neg, map(names.get, matched, repeat(0))),
            map(base_key, matched),
            matched,
            strict=True,
        )
        if need < len(matched) // 2:
            return [row[-1] for row in heapq.nsmallest(need, keyed)]
        return [row[-1] for row in sorted(keyed)]

    def _top_cover_page(self, q, matched, cover, names, base_key, need) -> list[int] | None:
        """The first `need` documents when the best-covered ones alone fill them (the
        usual case: one word, or every word, matched by most of the results), else
        None. The same order as the full sort: the best-covered clinics whose name
        holds the words, then the others by walking the generation's precomputed
        order, which stops after `need` of them instead of sorting every match.

        Only for words without a place or filter narrowing them further: then the
        matches are _candidates' list of every document with cover (match() keeps
        cover within the filters), so cover itself answers membership and counts."""
        if type(matched) is not list or len(matched) != len(cover):
            return None
        top = max(cover.values())
        if countOf(cover.values(), top) < need:
            return None
        named = [d for d, n in names.items() if n and cover.get(d) == top]
        keyed = zip(
            map(neg, map(names.__getitem__, named)), map(base_key, named), named, strict=True
        )
        page = [row[-1] for row in heapq.nsmallest(need, keyed)]
        if len(page) < need:
            skip = set(named)
            get = cover.get
            for d in self.s.order("reviews" if q.sort == "reviews" else "quality"):
                if get(d) == top and d not in skip:
                    page.append(d)
                    if len(page) >= need:
                        break
        return page

    def _name_cover(self, plan: Plan, matched) -> dict[int, int]:
        """For clinics whose name holds the plain words: how many of the words
        (ignored ones included, so "granite smp clinic" prefers Granite SMP Clinic)."""
        s = self.s
        plain = [c for c in plan.concepts if c.service is None]
        if not plain:
            return {}
        named: Counter[int] = Counter()
        for c in plain:
            for t in c.stems + c.alternatives:
                for d in s.postings("name", t):
                    named[d] += 1
        if not named:
            return {}
        for t in plan.ignored_stems:
            for d in s.postings("name", t):
                if d in named:
                    named[d] += 1
        return named

    def _best_match(self, plan, matched, cover, need, hits, deadline) -> list[int]:
        """Best text match first: cover, then BM25F over the boosted name and
        the text (weights cached per term and index generation), blended with
        quality."""
        s = self.s
        if not matched:
            return []
        if self._one_word(plan, matched):
            return self._best_match_one_word(plan.concepts[0].stems[0], cover, need)
        # Columns over the matched documents, added in C (map) rather than per
        # document in Python: each term's weights, then the blend.
        docs = list(matched)
        text = [0.0] * len(docs)
        for c in plan.concepts:
            for term in c.stems + c.alternatives:
                text = s.add_relevance(text, docs, term)
                if time.perf_counter() > deadline:
                    hits.partial = True
                    break
        top = max(text) or 1.0
        # cover + BLEND_TEXT * text / top + BLEND_QUALITY * quality (score / 5), per document
        blended = map(
            add,
            map(
                add,
                map(cover.get, docs, repeat(0.0)),
                map(truediv, map(mul, repeat(BLEND_TEXT), text), repeat(top)),
            ),
            map(mul, repeat(BLEND_QUALITY), map(s.quality_share.__getitem__, docs)),
        )
        keyed = zip(map(neg, blended), map(s.cid.__getitem__, docs), docs, strict=True)
        return [row[-1] for row in heapq.nsmallest(need, keyed)]

    def _one_word(self, plan: Plan, matched) -> bool:
        """Whether the matches are exactly the documents of one plain word, each with
        cover 1 (no service, near spelling, second word or filter), and many."""
        if len(plan.concepts) != 1 or type(matched) is not list:
            return False
        c = plan.concepts[0]
        if c.service or c.alternatives or len(c.stems) != 1 or len(matched) <= GLOBAL_ORDER_MIN:
            return False
        return len(matched) == len(self.s.postings("text", c.stems[0]))

    def _best_match_one_word(self, term: str, cover, need: int) -> list[int]:
        """_best_match's page for one word matched by many clinics, without scoring
        them all: the word's documents by text relevance (kept per generation) and
        the generation's quality order are read side by side, each document scored
        as _best_match scores it, until `need` scores beat the best score a document
        not yet read could have (the last relevance and the last quality read).
        The same page as scoring every match (a threshold walk)."""
        s = self.s
        relevance, by_relevance = s.word_relevance(term)
        top = relevance[by_relevance[0]] or 1.0
        share, cid = s.quality_share, s.cid
        holding = s.postings("text", term)
        by_quality = (d for d in s.order("quality") if d in holding)
        kept: list[tuple[float, int, int]] = []  # the best so far, worst first: (score, -cid, d)
        seen: set[int] = set()
        for a, b in zip(by_relevance, by_quality, strict=False):
            for d in (a, b):
                if d in seen:
                    continue
                seen.add(d)
                row = (
                    cover.get(d, 0.0) + BLEND_TEXT * relevance[d] / top + BLEND_QUALITY * share[d],
                    -cid[d],
                    d,
                )
                if len(kept) < need:
                    heapq.heappush(kept, row)
                elif row > kept[0]:
                    heapq.heapreplace(kept, row)
            # No document not yet read scores above this (cover is 1 for every match).
            bound = 1.0 + BLEND_TEXT * relevance[a] / top + BLEND_QUALITY * share[b]
            if len(kept) == need and kept[0][0] > bound:
                break
        return [row[2] for row in sorted(kept, key=lambda row: (-row[0], -row[1]))]

    # ---------------------------------------------------------------- facets

    def facets(self, matched, bits: int | None = None) -> dict[str, dict[str, int]]:
        """Service and country counts of the matched documents (`bits`: the same
        documents as bits, when the steps before built them)."""
        s = self.s
        if matched is s.live and s.all_facets is not None:
            return s.all_facets
        if bits is None:
            bits = to_bits(matched)
        # Each count is one AND and one bit count in C, whatever the result's size.
        by_country, by_service = s.facet_bits
        services = {
            k: (bits & by_service.get(SERVICE_BITS[k], 0)).bit_count() for k in vocab.SERVICES
        }
        countries = [(cc, (bits & cc_bits).bit_count()) for cc, cc_bits in by_country.items()]
        facets = {
            "service": {k: n for k, n in services.items() if n},
            "country": dict(
                sorted((kv for kv in countries if kv[1]), key=lambda kv: (-kv[1], kv[0]))
            ),
        }
        if matched is s.live:
            s.all_facets = facets
        return facets

    # ----------------------------------------------------------- did you mean

    def _did_you_mean(self, text: str | None, plan: Plan) -> str | None:
        """The typed words with each unknown plain word replaced by the closest known one."""
        unknown = {c.words for c in plan.concepts if not c.exact and not c.service}
        if not unknown:
            return None
        changed = False
        out = []
        for w in raw_words(text):
            if fold(w) in unknown and len(w) >= 3 and not self.s.has_term("spell", w):
                best = self._closest_word(w)
                if best and best != w:
                    out.append(best)
                    changed = True
                    continue
            out.append(w)
        return " ".join(out) if changed else None

    def _closest_word(self, word: str) -> str | None:
        """The most frequent known word one edit away, else two (first letter kept);
        remembered per index generation (fuzzy matching and "did you mean" both ask)."""
        closest = self.s.closest
        if word in closest:
            closest.move_to_end(word)
            return closest[word]
        found = self._find_closest_word(word)
        closest[word] = found
        if len(closest) > CLOSEST_CACHE:
            closest.popitem(last=False)
        return found

    def _find_closest_word(self, word: str) -> str | None:
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

    # ------------------------------------------------------------ suggestions

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

    def find_name(self, name: str) -> int | None:
        """The clinic whose name best matches the words, typos tolerated (one
        edit per word, counting half). None unless the matches weigh at least
        half the words; ties go to the better clinic."""
        s = self.s
        stems = tokens(name)
        if not stems:
            return None
        named: Counter[int] = Counter()
        for t in stems:
            exact = s.postings("name", t)
            near: set[int] = set()
            if len(t) >= 4:
                for alt in s.expand(t):
                    if alt != t:
                        near |= s.postings("name", alt)
            for d in exact:
                named[d] += 2
            for d in near - exact:
                named[d] += 1
        good = [d for d, n in named.items() if n >= len(stems)]
        if not good:
            return None
        best = min(good, key=lambda d: (-named[d], s.quality_key(d)))
        return s.cid[best]
