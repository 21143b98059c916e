"""Moderation signals and coordination rules (docs/trust.md), as pure functions.

No Flask, no database: services.signals gathers the facts (`ItemFacts`,
`OtherReview`, linked accounts, stored near-duplicates) and this module decides
which signals are raised and which of them lower a testimonial's weight.

The rules never look at whether a rating is good or bad: the one rule that reads
the item's ratings ("uniform extreme ratings") treats all-1 and all-5 alike, so
a glowing and a damning testimonial pass the same checks and get the same weight.

Two uses, one rule set:
- the moderator's queue shows every signal of a pending item, against every
  other testimonial and account (`signals`);
- the score (`down_weight_reasons`) uses only what moderation has already
  accepted — published testimonials, approved owners and staff, accounts linked
  by address or device — so that nothing unmoderated (a new
  account, a pending testimonial, a report) can change any clinic's score.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

NEW_ACCOUNT_DAYS = 7
# An account this young when it wrote counts as "new" for the ring and copy rules.
RING_ACCOUNT_DAYS = 30
NEAR_DUPLICATE_JACCARD = 0.5
BURST_WINDOW = timedelta(days=3)
BURST_MIN_OTHERS = 3
RING_MIN_OTHERS = 2
SHORT_TEXT_CHARS = 200
# Kinds of link between accounts, strongest first. The weak ones are shown to
# moderators and group accounts into clusters, but never lower a weight on their
# own: offices, universities and mobile carriers share a network, and common
# names share an e-mail pattern (john.smith1978@, john.smith82@).
STRONG_LINKS = ("address", "device")
LINK_KINDS = (*STRONG_LINKS, "e-mail pattern", "network")

# Down-weight reasons, in the words the score explanation uses.
COORDINATED = "coordinated"
PHOTO_COPIED = "photo matches another"
NEW_ACCOUNT = "new account"

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = """a an and are as at be been but by for from had has have he her his i if in into is
    it its just me my no not of on or our she so than that the their them then there these they
    this to too up us very was we were what when which who will with would you your all am any
    can could did do does done got get more most much only out over some such"""
STOPWORDS = frozenset(_STOP.split())


@dataclass(frozen=True)
class OtherReview:
    """Another testimonial on the site, as the checks need it."""

    id: int
    clinic_id: int
    author_id: int | None
    text: str
    created_at: datetime
    origin_hash: str | None = None
    overall: int | None = None
    status: str = "published"
    author_created_at: datetime | None = None


@dataclass(frozen=True)
class Duplicate:
    """A stored near-duplicate of the item: another testimonial, a result case or a
    clinic's description. `newer`: the item is the later of the two (the copy)."""

    item_type: str
    item_id: int
    score: float
    clinic_id: int | None = None
    author_id: int | None = None
    published: bool = True
    newer: bool = True


@dataclass(frozen=True)
class PhotoMatch:
    photo_id: int
    other_photo_id: int
    how: str
    other_clinic_id: int | None = None
    other_uploader_id: int | None = None
    other_review_id: int | None = None
    published: bool = True
    newer: bool = True
    own_published: bool = True  # this item's photo is published


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
    # Accounts linked to the author, and how (LINK_KINDS); the author is not in it.
    links: Mapping[int, frozenset[str]] = field(default_factory=dict)
    # The clinic's owner and approved staff (claimants), and how the author is
    # linked to them (the author's own origins against theirs).
    staff_links: frozenset[str] = frozenset()
    # Rival clinics: same city, a service in common.
    rival_clinic_ids: frozenset[int] = frozenset()
    duplicates: Sequence[Duplicate] = ()
    photo_matches: Sequence[PhotoMatch] = ()
    verified: bool = False


@dataclass(frozen=True)
class Signal:
    key: str
    label: str
    detail: str
    flag: bool  # True: worth a closer look


# --- text -----------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """Content words: lower-cased, accents and a plural "s" dropped, common words out."""
    norm = unicodedata.normalize("NFKD", text or "")
    norm = "".join(c for c in norm if not unicodedata.combining(c)).casefold()
    out = []
    for w in _WORD.findall(norm):
        if w in STOPWORDS or len(w) < 2:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def features(text: str) -> frozenset[str]:
    """The set of content words. A set ignores re-ordered sentences, and changing one
    word in six still leaves two thirds of it shared (Jaccard about 0.65, against
    0.5 for a near-duplicate; honest testimonials about SMP share 0.1 to 0.3)."""
    return frozenset(words(text))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def uniform_extreme(ratings: Mapping[str, int]) -> bool:
    """Every rating given is the same extreme (all 1 or all 5), symmetric by design."""
    values = [v for v in ratings.values() if v is not None]
    return len(values) >= 1 and len(set(values)) == 1 and values[0] in (1, 5)


# --- the rules --------------------------------------------------------------------------


def _age_days(when: datetime, created: datetime | None) -> float | None:
    if created is None:
        return None
    return (when - created).total_seconds() / 86400


def _is_new_when_writing(created_at: datetime, author_created_at: datetime | None) -> bool:
    age = _age_days(created_at, author_created_at)
    return age is not None and age < RING_ACCOUNT_DAYS


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@dataclass(frozen=True)
class _Findings:
    staff: frozenset[str]
    peers: dict[int, frozenset[str]]
    rivals_by_links: dict[int, list[OtherReview]]
    own_rivals: list[OtherReview]
    burst: list[OtherReview]
    ring: list[OtherReview]
    dups: list[Duplicate]
    photos: list[PhotoMatch]


def _strong_links(item: ItemFacts, accepted_only: bool) -> dict[int, frozenset[str]]:
    """Linked accounts; only address and device once moderated facts are all that count."""
    links = {
        uid: (kinds & frozenset(STRONG_LINKS)) if accepted_only else kinds
        for uid, kinds in item.links.items()
        if uid != item.author_id
    }
    return {uid: k for uid, k in links.items() if k}


def _staff_kinds(item: ItemFacts, accepted_only: bool) -> frozenset[str]:
    staff = (item.staff_links & frozenset(STRONG_LINKS)) if accepted_only else item.staff_links
    if not accepted_only and item.origin_hash and item.owner_signup_origin == item.origin_hash:
        staff = staff | {"network"}
    return staff


def _peers(
    item: ItemFacts, same_clinic: list[OtherReview], links: dict, accepted_only: bool
) -> dict[int, frozenset[str]]:
    """Other reviewers of the clinic linked to the author, and how."""
    peers: dict[int, frozenset[str]] = {}
    for o in same_clinic:
        if o.author_id is None or o.author_id == item.author_id:
            continue
        kinds = set(links.get(o.author_id, frozenset()))
        if not accepted_only and item.origin_hash and o.origin_hash == item.origin_hash:
            kinds.add("network")
        if kinds:
            peers[o.author_id] = frozenset(kinds)
    return peers


def _evidence(item: ItemFacts, accepted_only: bool) -> tuple[list[Duplicate], list[PhotoMatch]]:
    dups = list(item.duplicates)
    photos = [
        p for p in item.photo_matches if p.other_review_id is None or p.other_review_id != item.id
    ]
    if accepted_only:
        dups = [d for d in dups if d.published and d.newer]
        photos = [p for p in photos if p.published and p.newer and p.own_published]
    return dups, photos


def _findings(item: ItemFacts, others: Sequence[OtherReview], accepted_only: bool) -> _Findings:
    others = [
        o for o in others if o.id != item.id and (not accepted_only or o.status == "published")
    ]
    links = _strong_links(item, accepted_only)
    same_clinic = [o for o in others if o.clinic_id == item.clinic_id]
    rivals = [o for o in others if o.clinic_id in item.rival_clinic_ids]
    rivals_by_links: dict[int, list[OtherReview]] = {}
    for o in rivals:
        if o.author_id is not None and o.author_id in links:
            rivals_by_links.setdefault(o.clinic_id, []).append(o)
    own_rivals = [o for o in rivals if item.author_id is not None and o.author_id == item.author_id]
    burst = [o for o in same_clinic if abs(o.created_at - item.created_at) <= BURST_WINDOW]
    ring = []
    if _is_new_when_writing(item.created_at, item.author_created_at):
        ring = [o for o in burst if _is_new_when_writing(o.created_at, o.author_created_at)]
    return _Findings(
        _staff_kinds(item, accepted_only),
        _peers(item, same_clinic, links, accepted_only),
        rivals_by_links,
        own_rivals,
        burst,
        ring,
        *_evidence(item, accepted_only),
    )


# --- the signals, one function each, in the order the moderator reads them -----------


def _account_age(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    if item.author_created_at is None:
        return Signal("account_age", "Account age", "unknown (account deleted)", True)
    days = max(0, (now - item.author_created_at).days)
    return Signal("account_age", "Account age", _plural(days, "day"), days < NEW_ACCOUNT_DAYS)


def _email_verified(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    ok = item.author_email_verified
    return Signal("email_verified", "E-mail verified", "yes" if ok else "no", not ok)


def _author_reviews(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    own = [o for o in others if item.author_id is not None and o.author_id == item.author_id]
    return Signal("author_reviews", "Author's other testimonials", str(len(own)), False)


_TEXT_NAMES = {
    "review": "testimonial",
    "result_case": "result case",
    "clinic": "clinic description",
}


def _near_duplicate(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    dups = sorted(item.duplicates, key=lambda d: -d.score)
    detail = ", ".join(
        f"{_TEXT_NAMES.get(d.item_type, d.item_type)} #{d.item_id} ({d.score:.0%})"
        + (" of another clinic" if d.clinic_id not in (None, item.clinic_id) else "")
        for d in dups[:5]
    )
    return Signal("near_duplicate", "Near-duplicate text", detail or "none", bool(dups))


def _burst(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    detail = f"{_plural(len(f.burst), 'other')} within {BURST_WINDOW.days} days"
    if f.ring:
        detail += (
            f", {len(f.ring)} of them from accounts under {RING_ACCOUNT_DAYS} days old "
            "like this one"
        )
    raised = len(f.burst) >= BURST_MIN_OTHERS or len(f.ring) >= RING_MIN_OTHERS
    return Signal("burst", "Burst of testimonials for this clinic", detail, raised)


def _kinds(kinds: Iterable[str]) -> str:
    return ", ".join(sorted(set(kinds), key=LINK_KINDS.index))


def _shared_origin(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    parts = []
    if f.peers:
        kinds = _kinds(k for v in f.peers.values() for k in v)
        parts.append(f"{_plural(len(f.peers), 'other reviewer')} of this clinic ({kinds})")
    if f.staff:
        parts.append(f"the clinic's owner or staff ({_kinds(f.staff)})")
    detail = "with " + " and ".join(parts) if parts else "none"
    return Signal("shared_origin", "Shared network origin", detail, bool(parts))


def _linked_accounts(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    n = len([u for u in item.links if u != item.author_id])
    kinds = _kinds(k for v in item.links.values() for k in v)
    detail = f"{_plural(n, 'account')} ({kinds})" if n else "none"
    return Signal("linked_accounts", "Linked accounts", detail, bool(n))


def _rated(reviews: Iterable[OtherReview]) -> str:
    ratings = ", ".join(str(o.overall) for o in reviews if o.overall is not None)
    return f" (rated {ratings})" if ratings else ""


def _rivals(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    parts = []
    if f.own_rivals:
        n = len({o.clinic_id for o in f.own_rivals})
        parts.append(f"the author reviewed {_plural(n, 'rival')}" + _rated(f.own_rivals))
    if f.rivals_by_links:
        linked = [o for v in f.rivals_by_links.values() for o in v]
        parts.append(
            f"linked accounts wrote {_plural(len(linked), 'testimonial')} on "
            f"{_plural(len(f.rivals_by_links), 'rival')}" + _rated(linked)
        )
    return Signal(
        "rivals",
        "Testimonials on rival clinics (same city and service)",
        "; ".join(parts) if parts else "none",
        bool(parts),
    )


def _uniform_extreme(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    extreme = uniform_extreme(item.ratings) and len(item.text.strip()) < SHORT_TEXT_CHARS
    return Signal(
        "uniform_extreme",
        "Uniform extreme ratings with short text",
        "yes" if extreme else "no",
        extreme,
    )


def _photo_match(item: ItemFacts, f: _Findings, others, now: datetime) -> Signal:
    n_photos = max(item.matching_photos, len(f.photos))
    detail = ", ".join(
        f"#{p.photo_id} matches #{p.other_photo_id} ({p.how}"
        + (", another clinic" if p.other_clinic_id not in (None, item.clinic_id) else "")
        + ")"
        for p in f.photos[:5]
    )
    return Signal(
        "photo_match",
        "Photos matching photos already on the site",
        detail or str(n_photos),
        n_photos > 0,
    )


_SIGNALS = (
    _account_age,
    _email_verified,
    _author_reviews,
    _near_duplicate,
    _burst,
    _shared_origin,
    _linked_accounts,
    _rivals,
    _uniform_extreme,
    _photo_match,
)


def signals(item: ItemFacts, others: Sequence[OtherReview], now: datetime) -> list[Signal]:
    """Every signal for one item, as a moderator sees it. `others` are the site's
    other testimonials (any status), excluding the item itself."""
    f = _findings(item, others, accepted_only=False)
    others = [o for o in others if o.id != item.id]
    return [signal(item, f, others, now) for signal in _SIGNALS]


def needs_attention(sigs: Sequence[Signal]) -> bool:
    """The automatic treatment in the queue: flagged items are marked for a closer
    look and listed first. Nothing is published or rejected automatically."""
    return any(s.flag for s in sigs)


def risk(sigs: Sequence[Signal]) -> int:
    """How many signals are raised (the queue lists the riskiest first)."""
    return sum(1 for s in sigs if s.flag)


def down_weight_reasons(item: ItemFacts, others: Sequence[OtherReview]) -> list[str]:
    """Why a published testimonial counts less in the score, from accepted facts only:

    - coordinated: its author is linked (same address or device) to
      the clinic's owner or staff, to another published reviewer of the clinic, or
      to accounts whose published testimonials are on rival clinics; or it is one
      of 3+ testimonials for the clinic written within 3 days by accounts under 30
      days old; or its text copies an earlier published text and its account was
      under 30 days old when it wrote, or is linked to that text's author.
    - photo matches another: one of its photos is a later copy (even mirrored or
      cropped) of a photo already published on the site.
    - new account: the account was under 30 days old when it wrote, and no
      moderator has verified the treatment.

    `others`: the site's testimonials (only published ones are used).
    """
    f = _findings(item, others, accepted_only=True)
    reasons = []
    copied = False
    new_author = _is_new_when_writing(item.created_at, item.author_created_at)
    for d in f.dups:
        if d.author_id is not None and d.author_id == item.author_id:
            continue
        if new_author or (d.author_id is not None and d.author_id in item.links):
            copied = True
    if f.staff or f.peers or f.rivals_by_links or len(f.ring) >= RING_MIN_OTHERS or copied:
        reasons.append(COORDINATED)
    if any(p.other_uploader_id is None or p.other_uploader_id != item.author_id for p in f.photos):
        reasons.append(PHOTO_COPIED)
    if new_author and not item.verified:
        reasons.append(NEW_ACCOUNT)
    return reasons
