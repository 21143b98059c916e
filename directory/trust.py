"""Moderation signals shown beside each pending testimonial (DESIGN.md section 5).

Pure functions over plain data: no Flask, no database. The service layer
gathers the facts (`ItemFacts`, `OtherReview`) and this module decides which
signals are raised. The rules never look at whether a rating is good or bad:
the one rule that reads ratings ("uniform extreme ratings") treats all-1 and
all-5 alike, so a glowing and a damning testimonial pass the same checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

NEW_ACCOUNT_DAYS = 7
SHINGLE_SIZE = 3
NEAR_DUPLICATE_JACCARD = 0.5
BURST_WINDOW = timedelta(days=3)
BURST_MIN_OTHERS = 3
SHORT_TEXT_CHARS = 200

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class OtherReview:
    """Another testimonial on the site, as the checks need it."""

    id: int
    clinic_id: int
    author_id: int | None
    text: str
    created_at: datetime
    origin_hash: str | None = None


@dataclass(frozen=True)
class ItemFacts:
    """The testimonial (or follow-up) under review and what is known around it."""

    id: int
    clinic_id: int
    author_id: int | None
    text: str
    created_at: datetime
    ratings: Mapping[str, int] = field(default_factory=dict)
    origin_hash: str | None = None
    author_created_at: datetime | None = None
    author_email_verified: bool = False
    owner_signup_origin: str | None = None
    matching_photos: int = 0


@dataclass(frozen=True)
class Signal:
    key: str
    label: str
    detail: str
    flag: bool  # True: worth a closer look


@lru_cache(maxsize=20_000)  # a queue page compares each item with the same recent texts
def shingles(text: str, size: int = SHINGLE_SIZE) -> frozenset[tuple[str, ...]]:
    words = [w.casefold() for w in _WORD.findall(text)]
    if len(words) < size:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def near_duplicates(
    text: str, others: Iterable[OtherReview], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[int, float]]:
    """(id, similarity) of other texts whose shingle sets overlap at least `threshold`."""
    mine = shingles(text)
    hits = []
    for o in others:
        sim = jaccard(mine, shingles(o.text))
        if sim >= threshold:
            hits.append((o.id, round(sim, 2)))
    return sorted(hits, key=lambda h: -h[1])


def uniform_extreme(ratings: Mapping[str, int]) -> bool:
    """Every rating given is the same extreme (all 1 or all 5), symmetric by design."""
    values = [v for v in ratings.values() if v is not None]
    return len(values) >= 1 and len(set(values)) == 1 and values[0] in (1, 5)


def signals(item: ItemFacts, others: Sequence[OtherReview], now: datetime) -> list[Signal]:
    """Every signal for one item. `others` are the site's other testimonials
    (any status), excluding the item itself."""
    others = [o for o in others if o.id != item.id]
    out: list[Signal] = []

    if item.author_created_at is None:
        out.append(Signal("account_age", "Account age", "unknown (account deleted)", True))
    else:
        days = max(0, (now - item.author_created_at).days)
        out.append(
            Signal(
                "account_age",
                "Account age",
                f"{days} day{'' if days == 1 else 's'}",
                days < NEW_ACCOUNT_DAYS,
            )
        )

    out.append(
        Signal(
            "email_verified",
            "E-mail verified",
            "yes" if item.author_email_verified else "no",
            not item.author_email_verified,
        )
    )

    own = [o for o in others if item.author_id is not None and o.author_id == item.author_id]
    out.append(Signal("author_reviews", "Author's other testimonials", str(len(own)), False))

    dups = near_duplicates(item.text, others)
    out.append(
        Signal(
            "near_duplicate",
            "Near-duplicate text",
            ", ".join(f"#{i} ({s:.0%})" for i, s in dups[:5]) if dups else "none",
            bool(dups),
        )
    )

    same_clinic = [o for o in others if o.clinic_id == item.clinic_id]
    burst = [o for o in same_clinic if abs(o.created_at - item.created_at) <= BURST_WINDOW]
    out.append(
        Signal(
            "burst",
            "Burst of testimonials for this clinic",
            f"{len(burst)} other{'' if len(burst) == 1 else 's'} within {BURST_WINDOW.days} days",
            len(burst) >= BURST_MIN_OTHERS,
        )
    )

    shared = 0
    owner_shared = False
    if item.origin_hash:
        shared = sum(
            1
            for o in same_clinic
            if o.origin_hash == item.origin_hash and o.author_id != item.author_id
        )
        owner_shared = item.owner_signup_origin == item.origin_hash
    parts = []
    if shared:
        parts.append(f"{shared} other reviewer{'' if shared == 1 else 's'} of this clinic")
    if owner_shared:
        parts.append("the clinic's owner")
    out.append(
        Signal(
            "shared_origin",
            "Shared network origin",
            "with " + " and ".join(parts) if parts else "none",
            bool(parts),
        )
    )

    extreme = uniform_extreme(item.ratings) and len(item.text.strip()) < SHORT_TEXT_CHARS
    out.append(
        Signal(
            "uniform_extreme",
            "Uniform extreme ratings with short text",
            "yes" if extreme else "no",
            extreme,
        )
    )

    out.append(
        Signal(
            "photo_match",
            "Photos matching photos already on the site",
            str(item.matching_photos),
            item.matching_photos > 0,
        )
    )
    return out


def needs_attention(sigs: Sequence[Signal]) -> bool:
    """The automatic treatment: flagged items are marked for a closer look in the queue.
    Nothing is published or rejected automatically."""
    return any(s.flag for s in sigs)
