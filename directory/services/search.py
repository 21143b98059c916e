"""Finding clinics: the search page, suggestions and "best-rated near you".

The index answers with clinic ids in order; the rows are then re-read from
the database and re-checked for visibility, so a stale index never shows a
suspended or deleted clinic (docs/security.md §29).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from markupsafe import Markup
from sqlalchemy import select

from directory import search, vocab
from directory.extensions import db
from directory.models import Clinic
from directory.search import Chip, Note, Place, Query, Unavailable
from directory.search.documents import PRICE_BUCKETS
from directory.services import pagedata
from directory.services.paging import Pager
from directory.vocab import PUBLIC_CLINIC_STATUSES

__all__ = [
    "PRICE_BUCKETS",
    "applied_through",
    "Query",
    "ResultPage",
    "Unavailable",
    "country_code",
    "describe",
    "find",
    "find_by_name",
    "generation",
    "load_public",
    "near",
    "read_place",
    "resolve_place",
    "suggest",
]


# What a page of results passes on from the engine's hits as it is.
_AS_FOUND = (
    "distances",
    "facets",
    "suggestion",
    "fuzzy",
    "partial",
    "elapsed_ms",
    "place",
    "country",
    "chips",
    "notes",
    "matching",
    "words",
)


@dataclass
class ResultPage(Pager):
    """One page of results (items: the clinics)."""

    query: Query
    distances: dict[int, float] = field(default_factory=dict)
    snippets: dict[int, Markup] = field(default_factory=dict)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    fuzzy: bool = False
    partial: bool = False
    elapsed_ms: float = 0.0
    place: Place | None = None  # searched around (given or read from the words)
    country: str | None = None  # the country filter (given or read from the words)
    chips: list[Chip] = field(default_factory=list)  # filters read from the words
    notes: list[Note] = field(default_factory=list)
    matching: int = 0  # results matching at least one of the remaining words
    words: str = ""  # the words searched for, without places and ignored words
    case_scores: dict = field(default_factory=dict)  # clinic id -> quality.CaseScore

    @property
    def country_label(self) -> str | None:
        return search.country_name(self.country) if self.country else None


def resolve_place(text: str) -> Place | None:
    return search.resolve_place(text)


def read_place(text: str) -> tuple[Place | None, str | None]:
    """A place box's words as (city, country code); see search.read_place."""
    return search.read_place(text)


def country_code(text: str) -> str | None:
    """A country typed as a code, an ISO3 code, a name or an alias; None when unknown."""
    return search.country_code(text)


def country_name(code: str) -> str:
    return search.country_name(code)


def country_choices() -> list[tuple[str, str]]:
    """(code, name) of every country, by name, for forms."""
    return search.gazetteer.countries()


def load_public(ids: list[int]) -> list[Clinic]:
    """The clinics in the given order, dropping any that are not (or no longer) public."""
    if not ids:
        return []
    rows = db.session.execute(
        select(Clinic).where(Clinic.id.in_(ids), Clinic.status.in_(PUBLIC_CLINIC_STATUSES))
    ).scalars()
    by_id = {c.id: c for c in rows}
    return [by_id[i] for i in ids if i in by_id]


# "Best for cases like yours" re-orders at most this many matches (best by quality first).
CASE_SORT_MAX = 5000


def find(query: Query, case=None, full: bool = False) -> ResultPage:
    """Run a search; raises Unavailable when the index cannot be used.

    `case` (a quality.Case) adds each clinic's like-for-like score to the page;
    with `query.sort == "case"` the matches are ordered by it (services.casescores).
    Without a case, "case" falls back to the quality order. The clinics are what
    a card shows (services.pagedata); `full`: every column (the API's summaries).
    """
    from directory.services import casescores

    search.catch_up()
    if query.sort == "case" and (case is None or not case.is_set):
        query = replace(query, sort="quality")
    if query.sort == "case":
        wide = replace(query, sort="quality", page=1, per_page=CASE_SORT_MAX)
        hits = search.engine().run(wide)
        dropped_before = hits.total - len(hits.ids)  # beyond CASE_SORT_MAX: not re-ordered
        ordered = casescores.order_ids(hits.ids, case)
        offset = (query.page - 1) * query.per_page
        hits.ids = ordered[offset : offset + query.per_page]
        hits.total = len(ordered) + dropped_before
        hits.distances = {i: d for i, d in hits.distances.items() if i in set(hits.ids)}
    else:
        hits = search.engine().run(query)
    clinics = pagedata.clinic_cards(
        hits.ids, with_evidence=case is not None and case.is_set, full=full
    )
    dropped = len(hits.ids) - len(clinics)
    snippets = {}
    if hits.terms:
        for c in clinics:
            snip = search.highlight(c.description or "", hits.terms)
            if snip is not None:
                snippets[c.id] = snip
    return ResultPage(
        items=clinics,
        total=max(0, hits.total - dropped),
        page=query.page,
        per_page=query.per_page,
        query=query,
        snippets=snippets,
        case_scores=casescores.scores_for(clinics, case),
        **{name: getattr(hits, name) for name in _AS_FOUND},
    )


def describe(page: ResultPage) -> tuple[str, str]:
    """The title and description of a results page: what was searched."""
    what = "SMP clinics"
    if page.words:
        what += f" for “{page.words}”"
    service = page.query.service
    if service:
        what += f" offering {vocab.SERVICES[service].lower()}"
    if page.place is not None:
        what += f" near {page.place.label}"
    elif page.country:
        what += f" in {search.country_name(page.country)}"
    title = what + (f" — page {page.page}" if page.page > 1 else "")
    count = f"{page.total:,} {what}"
    if page.total == 1:
        count = "1 " + what.replace("clinics", "clinic", 1)
    description = f"{count}, ordered by the quality of their verified results, never by price."
    return title, description


def generation() -> str | None:
    """A token for the index generation this process searches, named the same in
    every worker (the page cache is shared), or None when cached pages must not
    be used (see search.generation: outbox rows pending)."""
    if search.generation() is None:
        return None
    return index_token()


def applied_through() -> int:
    """The search outbox id this node's index has applied every row up to."""
    return search.applied_through()


def index_token() -> str | None:
    """The index generation this process searches, named the same in every worker
    (None when the index is unavailable); see search.index_token."""
    return search.index_token()


def near(
    place: Place | None, radius_km: int = 100, limit: int = 4, country: str | None = None
) -> ResultPage:
    """Best-rated public clinics within radius_km of a place, or in a country."""
    return find(
        Query(
            place=place,
            country=country,
            radius_km=radius_km,
            sort="quality",
            per_page=limit,
            literal=True,
        )
    )


def find_by_name(name: str) -> Clinic | None:
    """The public clinic whose name best matches the words, typos tolerated
    (the "add a clinic" box of the comparison page); raises Unavailable."""
    name = (name or "").strip()[:120]
    if not name:
        return None
    search.catch_up()
    found = search.engine().find_name(name)
    clinics = load_public([found]) if found is not None else []
    return clinics[0] if clinics else None


def suggest(prefix: str, limit: int = 5) -> list[dict]:
    """Clinic names and places for the search box, as the user types; each
    offered once. The treatment's own words ("smp clinic lon") are skipped."""
    out: list[dict] = []
    words = search.understand.strip_ignored(prefix)
    if len(words) < 2:
        return out
    try:
        ids = search.engine().suggest_names(words, limit)
    except Unavailable:
        ids = []
    for c in pagedata.clinic_cards(ids):
        out.append(
            {
                "kind": "clinic",
                "label": c.name,
                "value": c.name,
                "detail": f"{c.city}, {c.country}",
                "slug": c.slug,
            }
        )
    code = search.country_code(words) if len(words) > 2 else None
    if code is not None:
        name = search.country_name(code)
        out.append({"kind": "country", "label": name, "value": name, "detail": code})
    seen = set()
    for p in search.suggest_places(words, limit=limit):
        if p.label not in seen:
            seen.add(p.label)
            out.append({"kind": "place", "label": p.label, "value": p.name, "detail": p.country})
    return out
