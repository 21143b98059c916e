"""Gathers what trust.py judges, for the moderator's queue and for the score.

For a batch of testimonials, a handful of queries collect: the authors and
their accounts, every account linked to them (same address, network or device
in services.origin's events, or the same e-mail pattern), the clinic's owner and
staff, its rivals (same city, a service in common), the testimonials written by
the authors and their linked accounts anywhere, the clinic's other
testimonials, and the stored near-duplicate texts and photos
(services.similarity). `for_queue` raises every signal a moderator should see;
`down_weights` applies trust.down_weight_reasons with moderated facts only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select

from directory import trust
from directory.extensions import db
from directory.models import (
    Clinic,
    ClinicClaim,
    OriginEvent,
    Photo,
    ResultCase,
    Review,
    SimilarityMatch,
    User,
)
from directory.vocab import PUBLIC_CLINIC_STATUSES

_DIGITS = re.compile(r"\d+")


def email_key(email: str | None) -> str | None:
    """The pattern of an address: local part without dots, "+tags" and digits, with
    its domain (jane.doe+1@x, janedoe7@x -> janedoe@x). None when too little is left."""
    if not email or "@" not in email:
        return None
    local, domain = email.lower().rsplit("@", 1)
    local = _DIGITS.sub(
        "", local.split("+", 1)[0].replace(".", "").replace("_", "").replace("-", "")
    )
    if len(local) < 4:
        return None
    return f"{local}@{domain}"


def _hashes_of(user_ids: set[int]) -> dict[int, dict[str, set[str]]]:
    out: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    if not user_ids:
        return out
    rows = db.session.execute(
        select(
            OriginEvent.user_id,
            OriginEvent.address_hash,
            OriginEvent.network_hash,
            OriginEvent.device_hash,
        ).where(OriginEvent.user_id.in_(user_ids))
    ).all()
    for uid, a, n, d in rows:
        for kind, value in (("address", a), ("network", n), ("device", d)):
            if value:
                out[uid][kind].add(value)
    return out


def _origin_links(ids: set[int], links: dict[int, dict[int, set[str]]]) -> None:
    """Accounts that acted from the same address, network or device as each user."""
    mine = _hashes_of(ids)
    wanted = {k: set() for k in ("address", "network", "device")}
    for per_kind in mine.values():
        for k, values in per_kind.items():
            wanted[k] |= values
    columns = {
        "address": OriginEvent.address_hash,
        "network": OriginEvent.network_hash,
        "device": OriginEvent.device_hash,
    }
    conds = [columns[k].in_(values) for k, values in wanted.items() if values]
    if not conds:
        return
    rows = db.session.execute(
        select(OriginEvent.user_id, *columns.values()).where(or_(*conds)).distinct().limit(20000)
    ).all()
    for other, *values in rows:
        for uid in ids:
            h = mine.get(uid)
            if other == uid or not h:
                continue
            for kind, value in zip(columns, values, strict=True):
                if value and value in h[kind]:
                    links[uid][other].add(kind)


def _email_links(ids: set[int], links: dict[int, dict[int, set[str]]]) -> None:
    """Accounts whose address has the same pattern (jane.doe+1@x, janedoe7@x)."""
    users = db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all()
    groups: dict[tuple[str, str], dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for uid, email in users:
        key = email_key(email)
        if key is not None:
            groups[(key[0], key.rsplit("@", 1)[1])][key].add(uid)
    for (first, domain), keys in groups.items():
        similar = db.session.execute(
            select(User.id, User.email).where(User.email.like(f"{first}%@{domain}")).limit(20000)
        ).all()
        for other, other_email in similar:
            for uid in keys.get(email_key(other_email), ()):
                if other != uid:
                    links[uid][other].add("e-mail pattern")


def linked_accounts(user_ids: Iterable[int]) -> dict[int, dict[int, frozenset[str]]]:
    """For each user, the other accounts linked to it and how (address, device,
    e-mail pattern, network)."""
    ids = {u for u in user_ids if u is not None}
    links: dict[int, dict[int, set[str]]] = {u: defaultdict(set) for u in ids}
    _origin_links(ids, links)
    _email_links(ids, links)
    return {u: {o: frozenset(k) for o, k in d.items()} for u, d in links.items()}


def _staff(clinic: Clinic, accepted_only: bool) -> set[int]:
    ids = {clinic.owner_id} if clinic.owner_id else set()
    statuses = ("approved",) if accepted_only else ("pending", "approved")
    ids |= set(
        db.session.execute(
            select(ClinicClaim.user_id).where(
                ClinicClaim.clinic_id == clinic.id, ClinicClaim.status.in_(statuses)
            )
        ).scalars()
    )
    return {i for i in ids if i is not None}


def rivals_of(clinic: Clinic) -> set[int]:
    """Public clinics in the same city and country offering a service in common."""
    rows = db.session.execute(
        select(Clinic.id, Clinic.services).where(
            func.lower(Clinic.city) == (clinic.city or "").lower(),
            Clinic.country == clinic.country,
            Clinic.id != clinic.id,
            Clinic.status.in_(sorted(PUBLIC_CLINIC_STATUSES)),
        )
    ).all()
    mine = set(clinic.services or ())
    return {cid for cid, services in rows if mine & set(services or ())}


def _other_reviews(conds) -> list[trust.OtherReview]:
    rows = db.session.execute(
        select(
            Review.id,
            Review.clinic_id,
            Review.author_id,
            Review.text,
            Review.created_at,
            Review.origin_hash,
            Review.overall,
            Review.status,
            User.created_at,
        )
        .outerjoin(User, User.id == Review.author_id)
        .where(or_(*conds))
        .order_by(Review.id)
        .limit(20000)
    ).all()
    return [
        trust.OtherReview(
            id=r[0],
            clinic_id=r[1],
            author_id=r[2],
            text=r[3],
            created_at=r[4],
            origin_hash=r[5],
            overall=r[6],
            status=r[7],
            author_created_at=r[8],
        )
        for r in rows
    ]


def _duplicates(reviews: list[Review], newer_only: bool) -> dict[int, list[trust.Duplicate]]:
    """Stored near-duplicates of the reviews; `newer_only`: only where the review is
    the later text (the copy), all the score needs."""
    ids = [r.id for r in reviews]
    if not ids:
        return {}
    as_newer = (SimilarityMatch.item_type == "review") & SimilarityMatch.item_id.in_(ids)
    as_older = (SimilarityMatch.other_type == "review") & SimilarityMatch.other_id.in_(ids)
    rows = list(
        db.session.execute(
            select(SimilarityMatch).where(
                SimilarityMatch.kind == "text",
                as_newer if newer_only else or_(as_newer, as_older),
            )
        ).scalars()
    )
    wanted: dict[str, set[int]] = defaultdict(set)
    pairs = []
    for m in rows:
        for side, (t, i), (ot, oi) in (
            (True, (m.item_type, m.item_id), (m.other_type, m.other_id)),
            (False, (m.other_type, m.other_id), (m.item_type, m.item_id)),
        ):
            if t == "review" and i in ids:
                pairs.append((i, ot, oi, m.score, side))
                wanted[ot].add(oi)
    info: dict[tuple[str, int], tuple[int | None, int | None, bool]] = {}
    if wanted["review"]:
        for rid, cid, aid, status in db.session.execute(
            select(Review.id, Review.clinic_id, Review.author_id, Review.status).where(
                Review.id.in_(wanted["review"])
            )
        ):
            info[("review", rid)] = (cid, aid, status == "published")
    if wanted["result_case"]:
        for rid, cid, aid, status in db.session.execute(
            select(
                ResultCase.id, ResultCase.clinic_id, ResultCase.submitted_by_id, ResultCase.status
            ).where(ResultCase.id.in_(wanted["result_case"]))
        ):
            info[("result_case", rid)] = (cid, aid, status == "published")
    if wanted["clinic"]:
        for cid, owner, status in db.session.execute(
            select(Clinic.id, Clinic.owner_id, Clinic.status).where(Clinic.id.in_(wanted["clinic"]))
        ):
            info[("clinic", cid)] = (cid, owner, status in PUBLIC_CLINIC_STATUSES)
    out: dict[int, list[trust.Duplicate]] = defaultdict(list)
    for rid, ot, oi, score, newer in pairs:
        if (ot, oi) not in info:
            continue
        cid, aid, published = info[(ot, oi)]
        out[rid].append(trust.Duplicate(ot, oi, score, cid, aid, published, newer))
    return out


def _photo_matches(reviews: list[Review]) -> dict[int, list[trust.PhotoMatch]]:
    photo_review = {p.id: r.id for r in reviews for p in r.photos}
    photo_status = {p.id: p.status for r in reviews for p in r.photos}
    if not photo_review:
        return {}
    ids = list(photo_review)
    rows = list(
        db.session.execute(
            select(SimilarityMatch).where(
                SimilarityMatch.kind == "photo",
                or_(SimilarityMatch.item_id.in_(ids), SimilarityMatch.other_id.in_(ids)),
            )
        ).scalars()
    )
    other_ids = {m.other_id for m in rows} | {m.item_id for m in rows}
    photos = {
        p.id: p for p in db.session.execute(select(Photo).where(Photo.id.in_(other_ids))).scalars()
    }
    review_clinic = dict(
        db.session.execute(
            select(Review.id, Review.clinic_id).where(
                Review.id.in_({p.review_id for p in photos.values() if p.review_id})
            )
        ).all()
    )
    out: dict[int, list[trust.PhotoMatch]] = defaultdict(list)
    for m in rows:
        for mine, theirs, newer in ((m.item_id, m.other_id, True), (m.other_id, m.item_id, False)):
            if mine not in photo_review or theirs not in photos:
                continue
            other = photos[theirs]
            clinic_id = other.clinic_id or review_clinic.get(other.review_id)
            out[photo_review[mine]].append(
                trust.PhotoMatch(
                    photo_id=mine,
                    other_photo_id=theirs,
                    how=m.how,
                    other_clinic_id=clinic_id,
                    other_uploader_id=other.uploader_id,
                    other_review_id=other.review_id,
                    published=other.status == "published",
                    newer=newer,
                    own_published=photo_status[mine] == "published",
                )
            )
    return out


def _staff_links(author_id: int | None, staff: set[int], links: dict[int, frozenset[str]]):
    kinds: set[str] = set()
    for s in staff:
        if s == author_id:
            kinds.add("address")  # the owner or a claimant themself
        kinds |= set(links.get(s, frozenset()))
    return frozenset(kinds)


@dataclass
class _Around:
    """What a batch of testimonials' facts are read from (a fixed number of queries)."""

    users: dict[int, User]
    links: dict[int, dict[int, frozenset[str]]]
    staff: dict[int, set[int]]
    rivals: dict[int, set[int]]
    owners: dict[int, User | None]
    dups: dict[int, list[trust.Duplicate]]
    photos: dict[int, list[trust.PhotoMatch]]


def _around(reviews: list[Review], accepted_only: bool) -> tuple[_Around, list]:
    authors = {r.author_id for r in reviews if r.author_id is not None}
    links = linked_accounts(authors)
    people = authors | {o for d in links.values() for o in d}
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(people))).scalars()}
    clinic_ids = {r.clinic_id for r in reviews}
    clinics = list(db.session.execute(select(Clinic).where(Clinic.id.in_(clinic_ids))).scalars())
    conds = [Review.clinic_id.in_(clinic_ids)]
    if people:
        conds.append(Review.author_id.in_(people))
    around = _Around(
        users=users,
        links=links,
        staff={c.id: _staff(c, accepted_only) for c in clinics},
        rivals={c.id: rivals_of(c) for c in clinics},
        owners={
            c.id: users.get(c.owner_id)
            or (db.session.get(User, c.owner_id) if c.owner_id else None)
            for c in clinics
        },
        dups=_duplicates(reviews, newer_only=accepted_only),
        photos=_photo_matches(reviews),
    )
    return around, _other_reviews(conds)


def _facts(r: Review, a: _Around, accepted_only: bool) -> trust.ItemFacts:
    author = a.users.get(r.author_id) if r.author_id else None
    my_links = a.links.get(r.author_id, {}) if r.author_id else {}
    owner = a.owners.get(r.clinic_id)
    return trust.ItemFacts(
        id=r.id,
        clinic_id=r.clinic_id,
        author_id=r.author_id,
        text=r.text,
        created_at=r.created_at,
        ratings=r.ratings(),
        origin_hash=r.origin_hash,
        author_created_at=author.created_at if author else None,
        author_email_verified=bool(author and author.email_verified),
        owner_signup_origin=None if accepted_only or owner is None else owner.signup_origin,
        links=my_links,
        staff_links=_staff_links(r.author_id, a.staff[r.clinic_id], my_links),
        rival_clinic_ids=frozenset(a.rivals[r.clinic_id]),
        duplicates=tuple(a.dups.get(r.id, ())),
        photo_matches=tuple(a.photos.get(r.id, ())),
        verified=r.verified_at is not None,
    )


def gather(
    reviews: list[Review], *, accepted_only: bool
) -> dict[int, tuple[trust.ItemFacts, list[trust.OtherReview]]]:
    """(facts, others) for each testimonial, in a fixed number of queries per clinic."""
    if not reviews:
        return {}
    around, others = _around(reviews, accepted_only)
    return {r.id: (_facts(r, around, accepted_only), others) for r in reviews}


def for_queue(reviews: list[Review], now: datetime | None = None) -> dict[int, list[trust.Signal]]:
    """Every signal of each testimonial, as the moderator sees it."""
    now = now or datetime.now(UTC)
    return {
        rid: trust.signals(facts, others, now)
        for rid, (facts, others) in gather(reviews, accepted_only=False).items()
    }


def down_weights(reviews: list[Review]) -> dict[int, tuple[str, ...]]:
    """The reasons each published testimonial counts less (moderated facts only)."""
    return {
        rid: tuple(trust.down_weight_reasons(facts, others))
        for rid, (facts, others) in gather(reviews, accepted_only=True).items()
    }
