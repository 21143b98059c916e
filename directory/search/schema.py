"""The Whoosh schema: one document per public clinic.

Lean by design (docs/performance.md, Whoosh note 4): text fields are indexed but not stored
(snippets are built from the SQL rows), numbers used for sorting are sortable
columns with shift_step=0, and filters are KEYWORD terms (price buckets, not
numeric ranges; geo cells, not coordinate ranges).
"""

from __future__ import annotations

from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemmingAnalyzer, StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema

# One analyser for every text field and for the user's words, so that a
# query token is always a term the index may hold.
ANALYZER = StemmingAnalyzer(minsize=2, maxsize=40, cachesize=50_000)
SPELL_ANALYZER = RegexTokenizer() | LowercaseFilter() | StopFilter(minsize=3, maxsize=30)


def _num(**kw) -> NUMERIC:
    return NUMERIC(int, bits=64, signed=True, sortable=True, shift_step=0, default=0, **kw)


def build_schema() -> Schema:
    return Schema(
        # The clinic id as a unique key (update_document) and as a column.
        id=ID(stored=True, unique=True),
        cid=_num(),
        # Text: the name gets its own boosted field; everything public about
        # the clinic (name, place, services, practitioners, description and a
        # capped digest of published testimonials) goes into "text".
        name=TEXT(analyzer=ANALYZER, field_boost=3.0, phrase=False),
        text=TEXT(analyzer=ANALYZER, phrase=False),
        # Unstemmed words of the clinic's own profile, for "did you mean"
        # (never queried directly by users). No positions: no phrase queries.
        spell=TEXT(analyzer=SPELL_ANALYZER, phrase=False),
        # Filters as keywords.
        service=KEYWORD(lowercase=False, commas=False),
        country=ID(sortable=True),
        city=ID(),
        price=KEYWORD(commas=False),
        women=ID(),
        geo=KEYWORD(commas=False),
        # Sort keys and shown numbers as columns.
        rank=_num(),  # quality × 1000, or -1 when not yet rated (sorts last)
        reviews=_num(),
        lat=_num(),  # microdegrees; NO_COORD when unknown
        lon=_num(),
        svcmask=_num(),
        namekey=ID(sortable=True),
    )


NO_COORD = -(10**12)
