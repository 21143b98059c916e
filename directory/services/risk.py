"""The risk of items waiting for moderation, stored so queues order and filter by it.

Each waiting item's trust signals (docs/trust.md) are computed when it is
submitted or changed — and again for the waiting items it may have changed the
picture of (the clinic's other waiting testimonials, those of linked accounts) —
and kept in `queue_risks`: how many signals are raised, which, and the signals as
the moderator reads them. A queue page then orders by risk and filters by signal
with one indexed join, and computes nothing on view.

When: a session hook (`install_session_hooks`) notes every new or changed waiting
item at flush and stores its signals just before the transaction commits, in the
same transaction — whichever service, CLI command or demo made the change, and
never for a rolled-back one. The worker recomputes what is waiting every half
hour (jobs.refresh_queue_risk: signals that depend on later events, such as a
decision on a linked item); `flask moderation risk` does it on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from directory import trust
from directory.database import listen_on_session
from directory.extensions import db
from directory.models import (
    ClinicClaim,
    FollowUp,
    Photo,
    QueueRisk,
    Report,
    ResultCase,
    Review,
    SimilarityMatch,
)
from directory.models.statuses import ClaimStatus, ItemStatus, ReportStatus
from directory.services import NotFound, media, moderation, reports, results, signals

Signal = trust.Signal
BATCH = 200
NEIGHBOURS = 100  # waiting testimonials refreshed with a new one

# The signals each queue can filter by: key -> label (the form's choices).
REVIEW_SIGNALS = {
    "account_age": "New account",
    "email_verified": "E-mail not verified",
    "near_duplicate": "Near-duplicate text",
    "burst": "Burst of testimonials",
    "shared_origin": "Shared network origin",
    "linked_accounts": "Linked accounts",
    "rivals": "Testimonials on rival clinics",
    "uniform_extreme": "Uniform extreme ratings, short text",
    "photo_match": "Photo matches another",
}
REPORT_SIGNALS = {
    "reporter_new_account": "New reporter account",
    "reporter_seldom_upheld": "Reporter's reports seldom upheld",
    "reporter_linked_accounts": "Reporter has linked accounts",
    "reporter_many_reports_on_clinic": "Several reports on one clinic",
    "reporter_tied_to_rival": "Reporter tied to a rival clinic",
}
PHOTO_SIGNALS = {"photo_match": "Photo matches another"}
RESULT_SIGNALS = PHOTO_SIGNALS | {"near_duplicate": "Near-duplicate text"}
CLAIM_SIGNALS = {"claim_unconfirmed": "Control of the business e-mail not proven"}
FILTERS: dict[str, dict[str, str]] = {
    "review": REVIEW_SIGNALS,
    "followup": REVIEW_SIGNALS,
    "photo": PHOTO_SIGNALS,
    "result_case": RESULT_SIGNALS,
    "report": REPORT_SIGNALS,
    "claim": CLAIM_SIGNALS,
}


# --- the signals of each kind of item -------------------------------------------------


def _reviews(items: Sequence[Review]) -> dict[int, list[Signal]]:
    return signals.for_queue(list(items))


def _followups(items: Sequence[FollowUp]) -> dict[int, list[Signal]]:
    found = signals.for_queue([fu.review for fu in items])
    return {fu.id: found[fu.review_id] for fu in items}


def _photo_signal(matched: list) -> Signal:
    n = len(matched)
    detail = (
        "none"
        if not n
        else f"{n} photo{'s' if n != 1 else ''} on the site: "
        + ", ".join(f"#{m.id}" for m in matched[:5])
    )
    return Signal("photo_match", "Photos matching photos already on the site", detail, n > 0)


def _photos(items: Sequence[Photo]) -> dict[int, list[Signal]]:
    out = {}
    for p in items:
        matched = [m for m in media.similar_photos(p) if m.review_id != p.review_id]
        out[p.id] = [_photo_signal(matched)]
    return out


def _texts_matched(item_type: str, ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(SimilarityMatch.item_id, SimilarityMatch.other_type, SimilarityMatch.other_id).where(
            SimilarityMatch.kind == "text",
            SimilarityMatch.item_type == item_type,
            SimilarityMatch.item_id.in_(ids),
        )
    ).all()
    out: dict[int, int] = {}
    for item_id, _, _ in rows:
        out[item_id] = out.get(item_id, 0) + 1
    return out


def _results(items: Sequence[ResultCase]) -> dict[int, list[Signal]]:
    texts = _texts_matched("result_case", [c.id for c in items])
    out = {}
    for case in items:
        matched = [m for ms in results.photo_matches(case).values() for m in ms]
        n_text = texts.get(case.id, 0)
        out[case.id] = [
            _photo_signal(matched),
            Signal(
                "near_duplicate",
                "Near-duplicate text",
                f"resembles {n_text} other text{'s' if n_text != 1 else ''}" if n_text else "none",
                n_text > 0,
            ),
        ]
    return out


def _reports(items: Sequence[Report]) -> dict[int, list[Signal]]:
    targets = {}
    for r in items:
        try:
            targets[r.id] = moderation.subject_of(r)
        except NotFound:
            targets[r.id] = None
    out = {}
    for rid, p in reports.reporter_profiles(list(items), targets).items():
        days = p.account_days
        out[rid] = [
            Signal(
                "reporter_new_account",
                "Reporter's account age",
                "unknown" if days is None else f"{days} days",
                days is None or days < trust.NEW_ACCOUNT_DAYS,
            ),
            Signal(
                "reporter_seldom_upheld",
                "Reporter's earlier reports",
                f"{p.filed} filed, {p.upheld} upheld, {p.dismissed} dismissed",
                p.dismissed >= 2 and p.dismissed > p.upheld,
            ),
            Signal(
                "reporter_linked_accounts",
                "Reporter's linked accounts",
                str(p.linked_accounts),
                p.linked_accounts > 0,
            ),
            Signal(
                "reporter_many_reports_on_clinic",
                "Open reports on this clinic by the reporter or linked accounts",
                str(p.reports_on_clinic),
                p.reports_on_clinic > 1,
            ),
            Signal(
                "reporter_tied_to_rival",
                "Reporter tied to a rival clinic",
                f"owns {p.owns_rival}"
                if p.owns_rival
                else f"{p.reviewed_rivals} testimonials on rivals"
                if p.reviewed_rivals
                else "no",
                bool(p.owns_rival or p.reviewed_rivals),
            ),
        ]
    return out


def _claims(items: Sequence[ClinicClaim]) -> dict[int, list[Signal]]:
    out = {}
    for c in items:
        confirmed = c.email_confirmed_at is not None
        out[c.id] = [
            Signal(
                "claim_unconfirmed",
                "Control of the business e-mail",
                "code confirmed" if confirmed else "not proven",
                not confirmed,
            )
        ]
    return out


KINDS: dict[str, tuple[type, Callable, object]] = {
    "review": (Review, _reviews, Review.status == ItemStatus.PENDING),
    "followup": (FollowUp, _followups, FollowUp.status == ItemStatus.PENDING),
    "photo": (Photo, _photos, Photo.status == ItemStatus.PENDING),
    "result_case": (ResultCase, _results, ResultCase.status == ItemStatus.PENDING),
    "report": (Report, _reports, Report.status == ReportStatus.OPEN),
    "claim": (ClinicClaim, _claims, ClinicClaim.status == ClaimStatus.PENDING),
}


# --- storing ------------------------------------------------------------------------------


def _upsert(rows: list[dict]) -> None:
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(QueueRisk).values(rows)
    db.session.execute(
        ins.on_conflict_do_update(
            index_elements=["item_type", "item_id"],
            set_={
                "risk": ins.excluded.risk,
                "keys": ins.excluded["keys"],
                "signals": ins.excluded.signals,
                "computed_at": ins.excluded.computed_at,
            },
        )
    )


def row_of(item_type: str, item_id: int, sigs: Sequence[Signal], now: datetime) -> dict:
    raised = [s.key for s in sigs if s.flag]
    return {
        "item_type": item_type,
        "item_id": item_id,
        "risk": trust.risk(sigs),
        "keys": "|" + "".join(k + "|" for k in raised),
        "signals": [[s.key, s.label, s.detail, s.flag] for s in sigs],
        "computed_at": now,
    }


def refresh(item_type: str, items: Iterable) -> int:
    """Compute and store the signals of these items (in batches); returns how many."""
    items = [i for i in items if i is not None]
    if item_type not in KINDS or not items:
        return 0
    db.session.flush()
    compute = KINDS[item_type][1]
    now = datetime.now(UTC)
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        found = compute(batch)
        _upsert([row_of(item_type, i.id, found.get(i.id, ()), now) for i in batch])
    return len(items)


def _neighbours(review: Review) -> list[Review]:
    """The waiting testimonials whose signals a new one may change: the clinic's
    (a burst, a ring) and those of accounts linked to its author."""
    people = {review.author_id} if review.author_id else set()
    if review.author_id:
        people |= set(signals.linked_accounts([review.author_id]).get(review.author_id, {}))
    conds = [Review.clinic_id == review.clinic_id]
    if people:
        conds.append(Review.author_id.in_(people))
    neighbours = db.session.execute(
        select(Review)
        .where(Review.status == ItemStatus.PENDING, Review.id != review.id, or_(*conds))
        .order_by(Review.id.desc())
        .limit(NEIGHBOURS)
    ).scalars()
    return list(neighbours)


def refresh_waiting(older_than: timedelta | None = None) -> int:
    """Recompute every waiting item (or those computed longer ago than `older_than`,
    and those never computed). Returns how many items were computed."""
    total = 0
    for item_type, (model, _, waiting) in KINDS.items():
        stmt = (
            select(model)
            .outerjoin(
                QueueRisk,
                (QueueRisk.item_type == item_type) & (QueueRisk.item_id == model.id),
            )
            .where(waiting)
            .order_by(model.id)
        )
        if older_than is not None:
            cutoff = datetime.now(UTC) - older_than
            stmt = stmt.where((QueueRisk.item_id.is_(None)) | (QueueRisk.computed_at < cutoff))
        items = list(db.session.execute(stmt).scalars())
        total += refresh(item_type, items)
    return total


def stored(item_type: str, ids: Iterable[int]) -> dict[int, list[Signal]]:
    """The stored signals of these items (an item never computed is absent)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(QueueRisk.item_id, QueueRisk.signals).where(
            QueueRisk.item_type == item_type, QueueRisk.item_id.in_(ids)
        )
    ).all()
    return {item_id: [Signal(*s) for s in sigs] for item_id, sigs in rows}


def of(item_type: str, items: Sequence, *, live: bool = False) -> dict[int, list[Signal]]:
    """Each item's signals: stored ones, computed now for those never stored (or for
    all with `live`: one item's own page shows the picture as it is this minute)."""
    if item_type not in KINDS or not items:
        return {}
    found = {} if live else stored(item_type, [i.id for i in items])
    missing = [i for i in items if i.id not in found]
    if missing:
        found |= KINDS[item_type][1](missing)
    return found


# --- when: just before the commit of the change -------------------------------------------

_SESSION_KEY = "risk_items"
_WAITING = {
    Review: ("review", ItemStatus.PENDING),
    FollowUp: ("followup", ItemStatus.PENDING),
    Photo: ("photo", ItemStatus.PENDING),
    ResultCase: ("result_case", ItemStatus.PENDING),
    Report: ("report", ReportStatus.OPEN),
    ClinicClaim: ("claim", ClaimStatus.PENDING),
}


def install_session_hooks() -> None:
    listen_on_session(
        {
            "after_flush": _after_flush,
            "before_commit": _before_commit,
            "after_rollback": _after_rollback,
        }
    )


def _after_flush(session, _ctx) -> None:
    noted = session.info.setdefault(_SESSION_KEY, set())
    for obj in (*session.new, *session.dirty):
        kind = _WAITING.get(type(obj))
        if kind is not None and obj.status == kind[1]:
            noted.add((kind[0], obj))


def _after_rollback(session) -> None:
    session.info.pop(_SESSION_KEY, None)


def _before_commit(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit computes
    session.flush()
    noted = session.info.pop(_SESSION_KEY, None)
    if not noted:
        return
    by_type: dict[str, list] = {}
    for item_type, obj in noted:
        by_type.setdefault(item_type, []).append(obj)
    reviews = {r.id: r for r in by_type.get("review", ())}
    for r in list(reviews.values()):
        for n in _neighbours(r):
            reviews.setdefault(n.id, n)
    by_type["review"] = list(reviews.values())
    for item_type, objs in by_type.items():
        refresh(item_type, [o for o in objs if _still_waiting(o)])
    session.info.pop(_SESSION_KEY, None)  # what refresh's own flushes noted


def _still_waiting(obj) -> bool:
    state = inspect(obj)
    return state.persistent and obj.status == _WAITING[type(obj)][1]
