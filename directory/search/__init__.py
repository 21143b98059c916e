"""The only package that touches Whoosh (see docs/architecture.md, "Search index in step").

The rest of the application uses this facade: `mark_dirty` (services, in the
transaction), `after_commit` (services.commit), `engine()`, `generation()`,
`catch_up()`, the place look-ups (`resolve_place`, `read_place`, `country_code`,
`coordinates`) for the search service and the index commands in `indexer`.
"""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache

from flask import current_app
from markupsafe import Markup, escape

from . import gazetteer, indexer, understand
from .engine import Engine
from .gazetteer import Place, coordinates, country_code, country_name, haversine_km
from .gazetteer import resolve as resolve_place
from .gazetteer import suggest as suggest_places
from .indexer import Unavailable
from .outbox import mark_dirty
from .queries import SORTS, Chip, Hits, Note, Query, Snapshot

__all__ = [
    "SORTS",
    "Chip",
    "Engine",
    "Hits",
    "Note",
    "Place",
    "Query",
    "Unavailable",
    "after_commit",
    "applied_through",
    "catch_up",
    "coordinates",
    "country_code",
    "country_name",
    "engine",
    "generation",
    "haversine_km",
    "highlight",
    "index_token",
    "mark_dirty",
    "read_place",
    "resolve_place",
    "suggest_places",
]

log = logging.getLogger("directory.search")
MAX_PLACE_CHARS = 120
_WORD = re.compile(r"\w+(?:\.?\w+)*")


def _index_dir() -> str:
    return current_app.config["INDEX_DIR"]


def after_commit() -> None:
    """Called by services.commit(): drain the outbox if the writer is free. Never raises."""
    if not current_app.config.get("SEARCH_DRAIN_AFTER_COMMIT", True):
        return
    try:
        indexer.try_drain(_index_dir())
    except Exception:  # noqa: BLE001 - the change is saved; the outbox keeps it
        log.exception("draining the search outbox failed; it will be retried")


def catch_up() -> None:
    """Before a search: apply committed changes a lost lock race left behind. Never raises."""
    if not current_app.config.get("SEARCH_DRAIN_AFTER_COMMIT", True):
        return
    try:
        if indexer.has_pending():
            indexer.try_drain(_index_dir())
    except Exception:  # noqa: BLE001
        log.exception("draining the search outbox failed; it will be retried")


def generation() -> int | None:
    """A token for the index generation this process searches, or None when
    pages built from it must not be reused (outbox rows still pending: the
    index may lag the database, so results must be re-read from SQL)."""
    catch_up()
    try:
        if indexer.has_pending():
            return None
        return engine().s.serial
    except Unavailable:
        return None


def applied_through() -> int:
    """The outbox id up to which this node's index is in step (see indexer)."""
    return indexer.applied_through(_index_dir())


def index_token() -> str | None:
    """The index generation this process searches, named the same in every worker:
    the index folder a rebuild swapped in and Whoosh's commit number (None when
    the index is unavailable). Callers check the outbox themselves."""
    try:
        reader = engine().s.reader
    except Unavailable:
        return None
    return f"{os.path.realpath(_index_dir())}:{reader.generation()}"


def read_place(text: str | None) -> tuple[Place | None, str | None]:
    """A place box's words as (city, country code): "smp in london" -> London;
    "uk" -> (None, "GB"); a misspelt city through the gazetteer's typo
    tolerance. (None, None) when no place is named."""
    text = (text or "")[:MAX_PLACE_CHARS]
    reading = understand.read(text)
    country = None
    for pr in reading.places:
        if pr.country is not None:
            country = country or pr.country
    for pr in reading.places:
        if pr.places:
            found = gazetteer.in_country(pr.places, country)
            if found is not None:
                return found, None
    if country is not None:
        return None, country
    rest = " ".join(c.words for c in reading.concepts)
    return (resolve_place(rest) if rest else None), None


def engine() -> Engine:
    """A query engine on the latest index generation; raises Unavailable.

    A missing or corrupt index is rebuilt: at once when the database is small,
    otherwise in a background thread while search reports itself unavailable.
    """
    app = current_app._get_current_object()
    index_dir = _index_dir()
    try:
        st = indexer.current(index_dir)
    except Unavailable:
        if not app.config.get("SEARCH_AUTO_REBUILD", True):
            raise
        log.warning("search index unusable at %s; rebuilding", index_dir)
        if len(indexer.public_ids()) <= int(app.config.get("SEARCH_SYNC_REBUILD_MAX", 2000)):
            if indexer.rebuild(index_dir, wait=False) < 0:
                raise
            st = indexer.current(index_dir)
        else:
            indexer.repair_in_background(app, index_dir)
            raise
    gazetteer.warm()  # once per process, before any query's time limit starts
    snap = getattr(st, "snapshot", None)
    if snap is None or snap.searcher is not st.searcher:
        try:
            snap = Snapshot(st.searcher)
        except Exception as exc:  # noqa: BLE001 - damaged segment files
            indexer.forget(index_dir)
            raise Unavailable(f"search index unreadable: {exc!r}") from exc
        st.snapshot = snap
    return Engine(snap, float(app.config.get("SEARCH_TIME_LIMIT_S", 0.5)))


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    from .schema import ANALYZER

    toks = [t.text for t in ANALYZER(word)]
    return toks[0] if toks else ""


@lru_cache(maxsize=1024)
def _candidates(prefixes: frozenset[str]) -> re.Pattern:
    """The words of _WORD that start with one of the prefixes (matched in C, so
    a snippet reads only the words that may be a match): a word starts where no
    word character, or word character and dot, comes before it."""
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?<!\w\.)(?:{alternatives})\w*(?:\.?\w+)*", re.IGNORECASE)


def highlight(text: str, terms: list[str], width: int = 220) -> Markup | None:
    """A snippet of text around the first matching word, matches in <mark>.

    Built from escaped fragments: the user's words never reach the page as HTML.
    """
    if not text or not terms:
        return None
    wanted = set(terms)
    spans = []
    for m in _candidates(frozenset(t[:2] for t in wanted)).finditer(text[:20_000]):
        if spans and m.start() >= spans[0][0] + width:
            break  # past any snippet that starts at or before the first match
        if _stem(m.group().lower()) in wanted:
            spans.append((m.start(), m.end()))
    if not spans:
        return None
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > spans[0][1] else end
    out = ["…" if start else ""]  # every piece of the text escaped, joined once
    pos = start
    for a, b in spans:
        if a < start or b > end:
            continue
        out += (escape(text[pos:a]), "<mark>", escape(text[a:b]), "</mark>")
        pos = b
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return Markup("".join(out))  # noqa: S704 - escaped pieces and our own tags
