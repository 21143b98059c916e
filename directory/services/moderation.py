"""One moderation workflow for every moderated item.

Each item type (testimonial, follow-up, photo, result case, clinic claim, clinic,
report, appeal) has a `Workflow`: a transition table `{(status, action): new
status}`, the reason codes allowed for each action, and plain-language outcome
words. Every decision goes through `decide()`, which runs, in this order:

1. may-decide: a moderator, never on their own item nor on one of a clinic they
   own; never on their own report; never on an appeal against their own decision;
   never on an item another moderator holds (see `take`);
2. the reason is valid for this type and action, the statement long enough;
3. the transition (InvalidState when the table has no entry for the item's
   status and the action) and its effects on related rows;
4. one append-only audit row (services.audit.record);
5. the author (and, for a report, the reporter) told the outcome in plain words
   (bodies in templates/email/; services.mail sends them);
6. the clinic's score recomputed, or its search document marked dirty.

Nothing here commits: the edge (view or CLI) commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median

from flask import render_template
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from directory import search
from directory.extensions import db
from directory.models import (
    Appeal,
    Clinic,
    ClinicClaim,
    FollowUp,
    ModerationDecision,
    Photo,
    QueueHold,
    QueueRisk,
    Report,
    ResultCase,
    Review,
    User,
)
from directory.models.statuses import (
    PUBLIC_CLINIC,
    AppealStatus,
    ClaimStatus,
    ClinicStatus,
    ItemStatus,
    ReportStatus,
)
from directory.services import (
    Invalid,
    InvalidState,
    NotAllowed,
    NotFound,
    audit,
    mail,
    media,
    scores,
)
from directory.services.paging import Pager
from directory.vocab import HIDING_REPORT_REASONS, REASON_CODES

P, U, J, R = ItemStatus.PENDING, ItemStatus.PUBLISHED, ItemStatus.REJECTED, ItemStatus.REMOVED

# --- reasons -------------------------------------------------------------------------

ACCEPT = ("meets_guidelines", "other")
CONTENT_REFUSALS = (
    "not_first_hand",
    "conflict_of_interest",
    "duplicate",
    "spam",
    "offensive",
    "personal_data",
    "illegal",
    "no_consent",
    "stolen_photo",
    "off_topic",
    "insufficient_evidence",
    "other",
)
CLAIM_REFUSALS = (
    "cannot_confirm_control",
    "insufficient_evidence",
    "conflict_of_interest",
    "duplicate",
    "spam",
    "other",
)
CLINIC_REFUSALS = ("not_smp_clinic", "duplicate", "insufficient_evidence", "spam", "other")
SUSPENSION_REASONS = (
    "fake_reviews",
    "offensive",
    "illegal",
    "conflict_of_interest",
    "spam",
    "other",
)
RESTORE = ("earlier_decision_wrong", "meets_guidelines", "verified_proof", "other")

# A transition to PREVIOUS goes back to the status the item had before the
# decision that put it where it is (a reinstated clinic is verified again if it was).
PREVIOUS = "<previous>"

PAST = {
    "publish": "published",
    "reject": "rejected",
    "remove": "removed",
    "verify": "verified",
    "approve": "approved",
    "suspend": "suspended",
    "reinstate": "reinstated",
    "restore": "restored",
    "keep": "kept",
    "uphold": "upheld",
    "deny": "denied",
}


@dataclass(frozen=True)
class Workflow:
    """The rules of one item type."""

    item_type: str
    label: str  # "testimonial": how pages and mail name the item
    transitions: Mapping[tuple[str, str], str]
    actions: Mapping[str, str]  # action -> the decision form's words, in form order
    reasons: Mapping[str, tuple[str, ...]]  # action -> allowed reason codes
    outcome: Mapping[str, str]  # action -> what happened, in the author's words
    appealable: frozenset[str] = frozenset()  # statuses an author may appeal

    def allowed(self, status: str) -> list[tuple[str, str]]:
        """The form's choices for an item in this status (restore is the appeal's)."""
        return [
            (action, label)
            for action, label in self.actions.items()
            if (status, action) in self.transitions
        ]

    def next_status(self, status: str, action: str) -> str:
        if action not in self.reasons:
            raise Invalid("Unknown decision.")
        try:
            return self.transitions[(status, action)]
        except KeyError:
            pass
        sources = [s for (s, a) in self.transitions if a == action]
        if status not in {s for (s, _) in self.transitions}:
            raise InvalidState(f"This {self.label} has already been decided.")
        raise InvalidState(
            f"Only a {' or '.join(sources)} {self.label} can be {PAST.get(action, action)}."
        )


def _content(item_type: str, label: str, *, verify: bool = False, photo: bool = False):
    transitions = {
        (P, "publish"): U,
        (P, "reject"): J,
        (U, "remove"): R,
        (J, "restore"): U,
        (R, "restore"): U,
    }
    actions = {"publish": "Publish", "reject": "Reject", "remove": "Remove from the site"}
    reasons = {
        "publish": ACCEPT,
        "reject": CONTENT_REFUSALS,
        "remove": CONTENT_REFUSALS,
        "restore": RESTORE,
    }
    outcome = {
        "publish": "was published",
        "reject": "was not published",
        "remove": "was removed from the site",
        "restore": "is published again",
    }
    if verify:
        transitions |= {(P, "verify"): P, (U, "verify"): U}
        actions = {"publish": "Publish", "verify": "Mark treatment verified"} | actions
        reasons["verify"] = ("verified_proof", "meets_guidelines")
        outcome["verify"] = "is now marked as a verified treatment"
    if photo:
        transitions[(U, "reject")] = R  # "reject" on a published photo takes it down
    return Workflow(item_type, label, transitions, actions, reasons, outcome, frozenset({J, R}))


WORKFLOWS: dict[str, Workflow] = {
    "review": _content("review", "testimonial", verify=True),
    "followup": _content("followup", "follow-up"),
    "photo": _content("photo", "photo", photo=True),
    "result_case": _content("result_case", "before/after result"),
    "claim": Workflow(
        "claim",
        "clinic claim",
        {
            (ClaimStatus.PENDING, "approve"): ClaimStatus.APPROVED,
            (ClaimStatus.PENDING, "reject"): ClaimStatus.REJECTED,
            (ClaimStatus.REJECTED, "restore"): ClaimStatus.APPROVED,
        },
        {"approve": "Approve: the claimant manages the clinic", "reject": "Reject"},
        {"approve": ("meets_guidelines", "verified_proof", "other"), "reject": CLAIM_REFUSALS}
        | {"restore": RESTORE},
        {
            "approve": "was approved: you now manage the clinic",
            "reject": "was not approved",
            "restore": "was approved after all: you now manage the clinic",
        },
        frozenset({ClaimStatus.REJECTED}),
    ),
    "clinic": Workflow(
        "clinic",
        "clinic",
        {
            (ClinicStatus.PENDING, "publish"): ClinicStatus.LISTED,
            (ClinicStatus.PENDING, "reject"): ClinicStatus.REJECTED,
            **{(s, "suspend"): ClinicStatus.SUSPENDED for s in PUBLIC_CLINIC},
            (ClinicStatus.SUSPENDED, "reinstate"): PREVIOUS,
            (ClinicStatus.REJECTED, "restore"): ClinicStatus.LISTED,
            (ClinicStatus.SUSPENDED, "restore"): PREVIOUS,
        },
        {
            "publish": "List the clinic",
            "reject": "Reject",
            "suspend": "Suspend (hide from the public)",
            "reinstate": "Reinstate",
        },
        {
            "publish": ACCEPT,
            "reject": CLINIC_REFUSALS,
            "suspend": SUSPENSION_REASONS,
            "reinstate": RESTORE,
            "restore": RESTORE,
        },
        {
            "publish": "is now listed",
            "reject": "was not listed",
            "suspend": "has been suspended and is hidden from the public",
            "reinstate": "has been reinstated and is public again",
            "restore": "is public again",
        },
        frozenset({ClinicStatus.REJECTED, ClinicStatus.SUSPENDED}),
    ),
    "report": Workflow(
        "report",
        "report",
        {
            (ReportStatus.OPEN, "keep"): ReportStatus.DISMISSED,
            (ReportStatus.OPEN, "remove"): ReportStatus.UPHELD,
        },
        {
            "keep": "Keep the item (dismiss the report)",
            "remove": "Remove the item (uphold the report)",
        },
        {
            "keep": ("meets_guidelines", "insufficient_evidence", "other"),
            "remove": CONTENT_REFUSALS,
        },
        {"keep": "stays on the site", "remove": "was removed from the site"},
    ),
    "appeal": Workflow(
        "appeal",
        "appeal",
        {
            (AppealStatus.OPEN, "deny"): AppealStatus.DENIED,
            (AppealStatus.OPEN, "uphold"): AppealStatus.UPHELD,
        },
        {"deny": "Deny the appeal", "uphold": "Uphold the appeal and restore the item"},
        # Refined per appealed item type in reasons_allowed().
        {"deny": (), "uphold": RESTORE},
        {"deny": "stays as decided", "uphold": "has been restored"},
    ),
}
ITEM_LABELS = {k: w.label for k, w in WORKFLOWS.items()}
APPEALABLE = tuple(k for k, w in WORKFLOWS.items() if w.appealable)

_TYPE_OF = {
    Review: "review",
    FollowUp: "followup",
    Photo: "photo",
    ResultCase: "result_case",
    ClinicClaim: "claim",
    Clinic: "clinic",
    Report: "report",
    Appeal: "appeal",
}
_MODELS = {v: k for k, v in _TYPE_OF.items()}


def model_of(item_type: str):
    return _MODELS[item_type]


def item_type_of(item) -> str:
    try:
        return _TYPE_OF[type(item)]
    except KeyError:
        raise NotFound("Unknown kind of item.") from None


def workflow_of(item) -> Workflow:
    return WORKFLOWS[item_type_of(item)]


def reasons_allowed(item, action: str) -> tuple[str, ...]:
    if isinstance(item, Appeal) and action == "deny":
        target = WORKFLOWS[item.item_type]
        refusals: list[str] = []
        for (_, a), new in target.transitions.items():
            if new in target.appealable:
                refusals += [c for c in target.reasons[a] if c not in refusals]
        return tuple(refusals)
    return workflow_of(item).reasons.get(action, ())


def form_reasons(item) -> list[tuple[str, str]]:
    """Every reason the decision form offers for this item in its current status."""
    wf = workflow_of(item)
    codes: list[str] = []
    for action, _ in wf.allowed(item.status):
        codes += [c for c in reasons_allowed(item, action) if c not in codes]
    return [(c, REASON_CODES[c]) for c in codes]


def _now() -> datetime:
    return datetime.now(UTC)


# --- the item, its clinic and its author --------------------------------------------


@dataclass(frozen=True)
class Target:
    item_type: str
    item: object
    clinic: Clinic | None
    author_id: int | None

    @property
    def status(self) -> str:
        return self.item.status

    @property
    def label(self) -> str:
        return ITEM_LABELS[self.item_type]


def target_of(item_type: str, item_id: int) -> Target:
    """A moderated item with its clinic and author; NotFound otherwise."""
    model = _MODELS.get(item_type)
    item = db.session.get(model, item_id) if model is not None else None
    if item is None:
        raise NotFound(f"No such {ITEM_LABELS.get(item_type, 'item')}.")
    return subject_of(item)


def subject_of(item) -> Target:
    kind = item_type_of(item)
    if isinstance(item, Review):
        return Target(kind, item, db.session.get(Clinic, item.clinic_id), item.author_id)
    if isinstance(item, FollowUp):
        review = item.review
        return Target(kind, item, db.session.get(Clinic, review.clinic_id), review.author_id)
    if isinstance(item, Photo):
        clinic_id = item.clinic_id
        if clinic_id is None and item.review_id is not None:
            clinic_id = db.session.get(Review, item.review_id).clinic_id
        clinic = db.session.get(Clinic, clinic_id) if clinic_id else None
        return Target(kind, item, clinic, item.uploader_id)
    if isinstance(item, ResultCase):
        return Target(kind, item, db.session.get(Clinic, item.clinic_id), item.submitted_by_id)
    if isinstance(item, ClinicClaim):
        return Target(kind, item, item.clinic, item.user_id)
    if isinstance(item, Clinic):
        return Target(kind, item, item, item.owner_id or item.submitted_by_id)
    if isinstance(item, Report):
        return target_of(item.target_type, item.target_id)
    return target_of(item.item_type, item.item_id)  # an appeal: the appealed item


# --- who may decide --------------------------------------------------------------------

HOLD_MINUTES = 30


def ensure_may_decide(item, by: User | None, hold: QueueHold | None | bool = True) -> None:
    """Raises NotAllowed when `by` may not decide on `item` (see the module docstring)."""
    subject = subject_of(item)
    audit.ensure_may_decide(by, subject.clinic, subject.author_id)
    if isinstance(item, Photo) and item.review_id is not None:
        review = db.session.get(Review, item.review_id)
        audit.ensure_may_decide(by, subject.clinic, review.author_id)
    if isinstance(item, Report) and item.reporter_id is not None and item.reporter_id == by.id:
        raise NotAllowed("You cannot decide on your own report.")
    if isinstance(item, Appeal) and item.decision.moderator_id == by.id:
        raise NotAllowed("A different moderator must decide an appeal against your decision.")
    if hold is True:
        hold = holder(item_type_of(item), item.id)
    if hold is not None and hold.moderator_id != by.id:
        raise NotAllowed(
            f"{hold.moderator.display_name} is working on this item; it is theirs to decide."
        )


def why_not(item, by: User, hold: QueueHold | None | bool = True) -> str | None:
    """Why `by` may not decide on `item`, or None: queues show it instead of the form.
    A queue page passes the item's hold (or None) it has read for the whole page."""
    try:
        ensure_may_decide(item, by, hold)
    except NotAllowed as exc:
        return str(exc)
    return None


def holder(item_type: str, item_id: int) -> QueueHold | None:
    hold = db.session.execute(
        select(QueueHold).where(QueueHold.item_type == item_type, QueueHold.item_id == item_id)
    ).scalar_one_or_none()
    if hold is not None and hold.taken_at < _now() - timedelta(minutes=HOLD_MINUTES):
        return None
    return hold


def take(item, by: User) -> QueueHold:
    """Hold the item for `by` for HOLD_MINUTES, so that no other moderator decides it."""
    kind = item_type_of(item)
    # Only someone who may decide it can hold it (never one's own item: that would
    # keep every other moderator from deciding it).
    ensure_may_decide(item, by, hold=None)
    existing = db.session.execute(
        select(QueueHold).where(QueueHold.item_type == kind, QueueHold.item_id == item.id)
    ).scalar_one_or_none()
    live = holder(kind, item.id)
    if live is not None and live.moderator_id != by.id:
        raise InvalidState(f"{live.moderator.display_name} is already working on this item.")
    if existing is not None:
        existing.moderator_id, existing.taken_at = by.id, _now()
        return existing
    hold = QueueHold(item_type=kind, item_id=item.id, moderator_id=by.id, taken_at=_now())
    try:
        with db.session.begin_nested():  # the unique constraint answers races
            db.session.add(hold)
    except IntegrityError:
        raise InvalidState("Another moderator took this item a moment ago.") from None
    return hold


def release(item, by: User) -> None:
    kind = item_type_of(item)
    hold = db.session.execute(
        select(QueueHold).where(QueueHold.item_type == kind, QueueHold.item_id == item.id)
    ).scalar_one_or_none()
    if hold is not None and (hold.moderator_id == by.id or holder(kind, item.id) is None):
        db.session.delete(hold)


def holds(item_type: str, ids: list[int]) -> dict[int, QueueHold]:
    if not ids:
        return {}
    since = _now() - timedelta(minutes=HOLD_MINUTES)
    rows = db.session.execute(
        select(QueueHold).where(
            QueueHold.item_type == item_type,
            QueueHold.item_id.in_(ids),
            QueueHold.taken_at >= since,
        )
    ).scalars()
    return {h.item_id: h for h in rows}


# --- decide ----------------------------------------------------------------------------


@dataclass
class _Record:
    """What the audit row and the mail say about one decision."""

    target: Target
    action: str
    previous: str | None
    new: str | None
    statement: str
    submitted_at: datetime | None
    outcome: str
    can_appeal: bool
    affects_score: bool
    told: list[tuple[int | None, str, dict]] = field(default_factory=list)


def decide(
    item,
    action: str,
    *,
    by: User,
    reason_code: str,
    statement: str,
    proof: str | None = None,
) -> ModerationDecision:
    """The one way to decide on a moderated item. Raises NotAllowed, Invalid, InvalidState."""
    wf = workflow_of(item)
    ensure_may_decide(item, by)
    new = wf.next_status(item.status, action)  # Invalid or InvalidState (a stale form)
    if reason_code not in reasons_allowed(item, action):
        raise Invalid(f"Choose a reason that fits “{wf.actions.get(action, action)}”.")
    statement = (statement or "").strip()
    if len(statement) < audit.MIN_STATEMENT:
        raise Invalid(f"Give a statement of reasons (at least {audit.MIN_STATEMENT} characters).")
    now = _now()
    record = _EFFECTS[wf.item_type](
        item, action, new, by=by, now=now, statement=statement, proof=proof
    )
    target = record.target
    row = audit.record(
        by=by,
        item_type=target.item_type,
        item_id=target.item.id,
        action=record.action,
        reason_code=reason_code,
        statement=record.statement,
        previous_status=record.previous,
        new_status=record.new,
        clinic_id=target.clinic.id if target.clinic else None,
        subject_user_id=target.author_id,
        item_submitted_at=record.submitted_at,
    )
    _tell_author(record, reason_code)
    for user_id, template, context in record.told:
        _mail(user_id, template, reason=REASON_CODES[reason_code], **context)
    if target.clinic is not None:
        if record.affects_score:
            scores.recompute_clinic(target.clinic, now)
        else:
            search.mark_dirty(target.clinic.id)
    release(item, by)
    return row


def _set(item, status: str, now: datetime) -> None:
    item.status = str(status)
    if status == U and hasattr(item, "published_at"):
        item.published_at = item.published_at or now


def _back_to(item, kind: str) -> str:
    """The status before the last decision that moved the item to where it is."""
    last = db.session.execute(
        select(ModerationDecision.previous_status)
        .where(
            ModerationDecision.item_type == kind,
            ModerationDecision.item_id == item.id,
            ModerationDecision.new_status == item.status,
        )
        .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return last or ""


def _record(item, action, previous, *, statement, outcome=None, can_appeal=None, score=False):
    target = subject_of(item)
    wf = WORKFLOWS[target.item_type]
    return _Record(
        target=target,
        action=action,
        previous=previous,
        new=item.status,
        statement=statement,
        submitted_at=item.created_at,
        outcome=outcome or wf.outcome[action],
        can_appeal=item.status in wf.appealable if can_appeal is None else can_appeal,
        affects_score=score,
    )


def _publish_review(review: Review, now: datetime) -> None:
    _set(review, U, now)
    review.published_at = now
    review.hidden_pending_report = False
    for p in review.photos:
        if p.status == P and p.consent_confirmed:
            _set(p, U, now)
            p.published_at = now


def _on_review(review: Review, action, new, *, by, now, statement, proof) -> _Record:
    previous = review.status
    if action == "verify":
        proof = (proof or "").strip()
        if len(proof) < 5:
            raise Invalid("Say what proof of treatment you saw (an invoice, a booking...).")
        if review.verified_at is not None:
            raise InvalidState("This treatment is already verified.")
        review.verified_at, review.verified_by_id = now, by.id
        review.verification_note = proof[:1000]
        statement = f"{statement} Proof seen: {proof}"
    elif new == U:
        _publish_review(review, now)
    else:
        _set(review, new, now)
        if new == J:
            for p in review.photos:
                if p.status == P:
                    _set(p, J, now)
    # Every decision disposes of an attached proof of treatment (deleted after the commit).
    from directory.services import proofs

    if proofs.discard(review) and action != "verify":
        statement = (
            f"{statement} Your proof of treatment was not accepted as verification "
            "and has been deleted."
        )
    score = U in (previous, review.status)
    return _record(review, action, previous, statement=statement, score=score)


def _on_followup(fu: FollowUp, action, new, *, by, now, statement, proof) -> _Record:
    previous = fu.status
    _set(fu, new, now)
    # Photos sent with the follow-up go with its decision (as a testimonial's do).
    for p in db.session.execute(select(Photo).where(Photo.followup_id == fu.id)).scalars():
        if p.status == P and new == U and p.consent_confirmed:
            _set(p, U, now)
            p.published_at = now
        elif p.status == P and new == J:
            _set(p, J, now)
    return _record(fu, action, previous, statement=statement, score=fu.review.status == U)


def _on_photo(photo: Photo, action, new, *, by, now, statement, proof) -> _Record:
    if photo.review_id is None and action != "restore":
        raise NotFound("This photo belongs to a result case; decide it in that queue.")
    review = db.session.get(Review, photo.review_id) if photo.review_id else None
    if action == "publish":
        if review.status != U:
            raise InvalidState("Decide the testimonial first: its photos are published with it.")
        if not photo.consent_confirmed:
            raise InvalidState("The uploader did not confirm consent for this photo.")
    previous = photo.status
    _set(photo, new, now)
    score = review is not None and review.status == U
    return _record(photo, action, previous, statement=statement, score=score)


def refresh_result_count(clinic: Clinic) -> None:
    db.session.flush()
    clinic.result_count = db.session.execute(
        select(func.count(ResultCase.id)).where(
            ResultCase.clinic_id == clinic.id, ResultCase.status == U
        )
    ).scalar_one()


def _on_result(case: ResultCase, action, new, *, by, now, statement, proof) -> _Record:
    previous = case.status
    _set(case, new, now)
    for photo in (case.before_photo, case.after_photo, case.healed_photo):
        if photo is not None:
            _set(photo, new, now)
    refresh_result_count(case.clinic)
    return _record(case, action, previous, statement=statement)


def _make_owner(clinic: Clinic, user: User | None) -> None:
    if user is None:
        return
    clinic.owner_id = user.id
    if user.role == "consumer":
        user.role = "clinic_owner"


def _on_claim(claim: ClinicClaim, action, new, *, by, now, statement, proof) -> _Record:
    previous, clinic = claim.status, claim.clinic
    if new == ClaimStatus.APPROVED:
        if clinic.owner_id is not None:
            raise InvalidState("This clinic already has an owner.")
        if claim.user is None:
            raise InvalidState("The claimant's account no longer exists.")
        _make_owner(clinic, claim.user)
        if clinic.status == ClinicStatus.LISTED:
            clinic.status = ClinicStatus.CLAIMED.value
    _set(claim, new, now)
    claim.decided_at = now
    return _record(
        claim, "approve" if action == "restore" else action, previous, statement=statement
    )


def _on_clinic(clinic: Clinic, action, new, *, by, now, statement, proof) -> _Record:
    previous = clinic.status
    if new == PREVIOUS:
        new = _back_to(clinic, "clinic")
        if new not in PUBLIC_CLINIC:
            new = ClinicStatus.CLAIMED if clinic.owner_id else ClinicStatus.LISTED
    if new == ClinicStatus.LISTED and previous == ClinicStatus.PENDING or action == "restore":
        submitter = db.session.get(User, clinic.submitted_by_id) if clinic.submitted_by_id else None
        if clinic.owner_id is None:
            _make_owner(clinic, submitter)
    _set(clinic, new, now)
    if new in (ClinicStatus.REJECTED, ClinicStatus.SUSPENDED):
        clinic.status_reason = statement
    else:
        clinic.status_reason = None
    return _record(clinic, action, previous, statement=statement)


def open_hiding_reports(item_type: str, item_id: int, excluding: int | None = None) -> int:
    stmt = select(func.count(Report.id)).where(
        Report.target_type == item_type,
        Report.target_id == item_id,
        Report.status == ReportStatus.OPEN,
        Report.reason.in_(sorted(HIDING_REPORT_REASONS)),
    )
    if excluding is not None:
        stmt = stmt.where(Report.id != excluding)
    return db.session.execute(stmt).scalar_one()


def _affects_score(target: Target) -> bool:
    if target.item_type in ("review", "followup"):
        return True
    return target.item_type == "photo" and target.item.review_id is not None


def _on_report(report: Report, action, new, *, by, now, statement, proof) -> _Record:
    """Uphold (take the item down) or dismiss (keep it); every open report on the same
    item is closed with an upheld report."""
    target = target_of(report.target_type, report.target_id)
    previous = target.status
    uphold = new == ReportStatus.UPHELD
    _set(report, new, now)
    report.decided_at = now
    twf = WORKFLOWS[target.item_type]
    if uphold and (previous, "remove") in twf.transitions:
        _set(target.item, twf.transitions[(previous, "remove")], now)
    for other in db.session.execute(
        select(Report).where(
            Report.target_type == report.target_type,
            Report.target_id == report.target_id,
            Report.status == ReportStatus.OPEN,
            Report.id != report.id,
        )
    ).scalars():
        if uphold:
            other.status, other.decided_at = ReportStatus.UPHELD.value, now
    db.session.flush()
    if target.item_type == "review" and open_hiding_reports("review", target.item.id) == 0:
        target.item.hidden_pending_report = False
    what = _what(target)
    removed = previous != target.status
    record = _Record(
        target=target,
        action=action,
        previous=previous,
        new=target.status,
        statement=statement,
        submitted_at=report.created_at,
        outcome=WORKFLOWS["report"].outcome["remove" if removed else "keep"],
        can_appeal=removed and target.status in twf.appealable,
        affects_score=_affects_score(target),
    )
    record.told.append(
        (
            report.reporter_id,
            "email/report_outcome.txt",
            {
                "subject": f"Your report about a {what}: {'upheld' if uphold else 'not upheld'}",
                "what": what,
                "upheld": uphold,
                "removed": removed,
                "statement": statement,
            },
        )
    )
    return record


def _on_appeal(appeal: Appeal, action, new, *, by, now, statement, proof) -> _Record:
    target = target_of(appeal.item_type, appeal.item_id)
    previous = target.status
    _set(appeal, new, now)
    appeal.decided_by_id, appeal.decided_at = by.id, now
    if new == AppealStatus.UPHELD:
        twf = WORKFLOWS[target.item_type]
        restored = twf.next_status(previous, "restore")
        _EFFECTS[target.item_type](
            target.item, "restore", restored, by=by, now=now, statement=statement, proof=None
        )
        target = subject_of(target.item)
    return _Record(
        target=target,
        action="appeal_upheld" if new == AppealStatus.UPHELD else "appeal_denied",
        previous=previous,
        new=target.status,
        statement=statement,
        submitted_at=appeal.created_at,
        outcome=WORKFLOWS["appeal"].outcome[action],
        can_appeal=False,
        affects_score=_affects_score(target) or target.item_type == "result_case",
    )


_EFFECTS: dict[str, Callable[..., _Record]] = {
    "review": _on_review,
    "followup": _on_followup,
    "photo": _on_photo,
    "result_case": _on_result,
    "claim": _on_claim,
    "clinic": _on_clinic,
    "report": _on_report,
    "appeal": _on_appeal,
}


# --- telling people --------------------------------------------------------------------


def _what(target: Target) -> str:
    if target.item_type == "clinic":
        return f"clinic {target.clinic.name} ({target.clinic.city})"
    if target.item_type == "claim":
        return f"claim to manage {target.clinic.name} ({target.clinic.city})"
    return target.label + (f" about {target.clinic.name}" if target.clinic else "")


def _mail(user_id: int | None, template: str, *, subject: str, **context) -> None:
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return
    body = render_template(
        template, user=user, account_url=mail.external_url("/account"), **context
    )
    mail.send(user.email, subject, body)


def _tell_author(record: _Record, reason_code: str) -> None:
    target = record.target
    what = _what(target)
    appeal = record.action.startswith("appeal_")
    verdict = "upheld" if record.action == "appeal_upheld" else "denied"
    subject = (
        f"Your appeal about your {what} was {verdict}"
        if appeal
        else f"Your {what} {record.outcome.split(':')[0]}"
    )
    _mail(
        target.author_id,
        "email/decision.txt",
        subject=subject,
        what=what,
        outcome=record.outcome,
        reason=REASON_CODES[reason_code],
        statement=record.statement,
        can_appeal=record.can_appeal,
        final=appeal,
        manage_url=mail.external_url("/manage")
        if target.item_type == "claim" and record.new == ClaimStatus.APPROVED
        else None,
    )


# --- appeals ---------------------------------------------------------------------------


def last_adverse_decision(item_type: str, item_id: int) -> ModerationDecision | None:
    return db.session.execute(
        select(ModerationDecision)
        .where(ModerationDecision.item_type == item_type, ModerationDecision.item_id == item_id)
        .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def appealable_decision(target: Target) -> ModerationDecision | None:
    """The decision the author may still appeal, or None."""
    wf = WORKFLOWS[target.item_type]
    if target.status not in wf.appealable:
        return None
    decision = last_adverse_decision(target.item_type, target.item.id)
    if decision is None or decision.new_status not in wf.appealable:
        return None
    return decision


def file_appeal(item_type: str, item_id: int, *, by: User, text: str) -> Appeal:
    """The author appeals once against the refusal of their item."""
    if item_type not in APPEALABLE:
        raise NotFound("Unknown kind of item.")
    target = target_of(item_type, item_id)
    if target.author_id is None or target.author_id != by.id:
        raise NotAllowed("Only the author can appeal a decision on this item.")
    if target.status not in WORKFLOWS[item_type].appealable:
        raise InvalidState("Only a refused, removed or suspended item can be appealed.")
    decision = appealable_decision(target)
    if decision is None:
        raise InvalidState("There is no decision to appeal.")
    text = (text or "").strip()
    if not 20 <= len(text) <= 3000:
        raise Invalid("Explain your appeal in 20 to 3,000 characters.")
    appeal = Appeal(
        decision_id=decision.id,
        item_type=item_type,
        item_id=item_id,
        appellant_id=by.id,
        text=text,
        status=AppealStatus.OPEN.value,
    )
    try:
        with db.session.begin_nested():  # the unique constraint answers races
            db.session.add(appeal)
    except IntegrityError:
        raise InvalidState(
            "You have already appealed this decision; an item can be appealed once."
        ) from None
    return appeal


def appeals_of(user: User) -> list[tuple[ModerationDecision, Target, Appeal | None]]:
    """The user's refused items, with the appeal filed on each (None: they still may)."""
    rows = db.session.execute(
        select(ModerationDecision)
        .where(ModerationDecision.subject_user_id == user.id)
        .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc())
        .limit(200)
    ).scalars()
    seen, out = set(), []
    for d in rows:
        key = (d.item_type, d.item_id)
        if key in seen or d.item_type not in APPEALABLE:
            continue
        seen.add(key)
        try:
            target = target_of(*key)
        except NotFound:
            continue
        appeal = db.session.execute(
            select(Appeal).where(Appeal.item_type == key[0], Appeal.item_id == key[1])
        ).scalar_one_or_none()
        if appeal is not None or appealable_decision(target) is not None:
            out.append((d, target, appeal))
    return out


# --- queues ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    endpoint: str
    item_type: str
    base: Callable[[], Select]
    created: object
    clinic_col: object = None
    author_col: object = None
    risky: bool = True  # services.risk stores its items' signals: ordered by risk


def _q_reviews():
    # Loaded with the page: what the signals and the card read for every item.
    return (
        select(Review)
        .where(Review.status == P)
        .options(
            selectinload(Review.author),
            selectinload(Review.clinic).selectinload(Clinic.owner),
            selectinload(Review.photos),
            selectinload(Review.practitioner),
        )
    )


def _q_followups():
    return (
        select(FollowUp).join(Review, Review.id == FollowUp.review_id).where(FollowUp.status == P)
    )


def _q_photos():
    return (
        select(Photo)
        .join(Review, Review.id == Photo.review_id)
        .where(Photo.status == P, Review.status == U)
    )


QUEUES: dict[str, Queue] = {
    q.key: q
    for q in (
        Queue(
            "reviews",
            "Testimonials",
            "moderation.reviews",
            "review",
            _q_reviews,
            Review.created_at,
            Review.clinic_id,
            Review.author_id,
        ),
        Queue(
            "followups",
            "Follow-ups",
            "moderation.followups",
            "followup",
            _q_followups,
            FollowUp.created_at,
            Review.clinic_id,
            Review.author_id,
        ),
        Queue(
            "photos",
            "Photos of published testimonials",
            "moderation.photos",
            "photo",
            _q_photos,
            Photo.created_at,
            Review.clinic_id,
            Photo.uploader_id,
        ),
        Queue(
            "reports",
            "Reports",
            "moderation.reports",
            "report",
            lambda: select(Report).where(Report.status == ReportStatus.OPEN),
            Report.created_at,
            None,
            Report.reporter_id,
        ),
        Queue(
            "appeals",
            "Appeals",
            "moderation.appeals",
            "appeal",
            lambda: select(Appeal).where(Appeal.status == AppealStatus.OPEN),
            Appeal.created_at,
            None,
            Appeal.appellant_id,
            risky=False,
        ),
        Queue(
            "claims",
            "Clinic claims",
            "moderation.claims",
            "claim",
            lambda: select(ClinicClaim).where(ClinicClaim.status == ClaimStatus.PENDING),
            ClinicClaim.created_at,
            ClinicClaim.clinic_id,
            ClinicClaim.user_id,
        ),
        Queue(
            "new_clinics",
            "New clinics",
            "moderation.new_clinics",
            "clinic",
            lambda: select(Clinic).where(Clinic.status == ClinicStatus.PENDING),
            Clinic.created_at,
            Clinic.id,
            Clinic.submitted_by_id,
            risky=False,
        ),
        Queue(
            "results",
            "Before/after results",
            "moderation.results",
            "result_case",
            lambda: select(ResultCase).where(ResultCase.status == P),
            ResultCase.created_at,
            ResultCase.clinic_id,
            ResultCase.submitted_by_id,
        ),
    )
}
ORDERS = {"risk": "Riskiest first", "oldest": "Oldest first", "newest": "Newest first"}
PER_PAGE = 25


@dataclass(frozen=True)
class Filters:
    order: str = "risk"  # the riskiest first; oldest first in queues without signals
    clinic_id: int | None = None
    author_id: int | None = None
    min_age_days: int | None = None
    signal: str | None = None  # only items raising this signal (services.risk keys)


class Page(Pager):
    empty_pages = 1  # an empty queue shows its one page


def queue_page(
    key: str, filters: Filters = Filters(), page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """One page of a queue, with the queue's size under these filters."""
    q = QUEUES[key]
    stmt = q.base()
    if filters.clinic_id is not None and q.clinic_col is not None:
        stmt = stmt.where(q.clinic_col == filters.clinic_id)
    if filters.author_id is not None and q.author_col is not None:
        stmt = stmt.where(q.author_col == filters.author_id)
    if filters.min_age_days:
        stmt = stmt.where(q.created <= _now() - timedelta(days=filters.min_age_days))
    model = _MODELS[q.item_type]
    if q.risky and (filters.signal or filters.order == "risk"):
        stmt = stmt.outerjoin(
            QueueRisk, (QueueRisk.item_type == q.item_type) & (QueueRisk.item_id == model.id)
        )
    if filters.signal and q.risky:
        if not filters.signal.replace("_", "").isalpha():
            raise Invalid("Unknown signal.")
        stmt = stmt.where(QueueRisk.keys.contains(f"|{filters.signal}|", autoescape=True))
    total = db.session.execute(stmt.with_only_columns(func.count()).order_by(None)).scalar_one()
    if filters.order == "newest":
        order = (q.created.desc(), model.id.desc())
    elif filters.order == "risk" and q.risky:
        order = (func.coalesce(QueueRisk.risk, 0).desc(), q.created, model.id)
    else:
        order = (q.created, model.id)
    page = max(1, page)
    items = list(
        db.session.execute(
            stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)
        ).scalars()
    )
    return Page(items, total, page, per_page)


def queue_sizes() -> dict[str, tuple[int, datetime | None]]:
    """Each queue's size and its oldest waiting item's time."""
    out = {}
    for key, q in QUEUES.items():
        count, oldest = db.session.execute(
            q.base().with_only_columns(func.count(), func.min(q.created)).order_by(None)
        ).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        out[key] = (count, oldest)
    return out


def photo_matches(photo: Photo) -> list[Photo]:
    return [
        m
        for m in media.similar_photos(photo)
        if not (photo.review_id and m.review_id == photo.review_id)
    ]


# --- the public figures -------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    by_outcome: dict[str, int]
    decided: int
    median_hours: float | None
    appeals: int
    appeals_decided: int
    reversals: int


def figures() -> Figures:
    """Moderation figures for /how-we-rank: every decision by outcome (appeal rows
    counted apart), median time to decision, appeals and reversals."""
    rows = db.session.execute(
        select(
            ModerationDecision.action,
            ModerationDecision.created_at,
            ModerationDecision.item_submitted_at,
            # Every moderation decision (testimonials, follow-ups, photos, result cases,
            # claims, clinics, the demo data's too); admins' role changes are not moderation.
        ).where(ModerationDecision.item_type != "user")
    ).all()
    by_outcome: dict[str, int] = {}
    waits = []
    for action, created, submitted in rows:
        if action.startswith("appeal_"):
            continue
        by_outcome[action] = by_outcome.get(action, 0) + 1
        if submitted is not None and created is not None:
            waits.append((created - submitted).total_seconds() / 3600)
    appeals = db.session.execute(select(func.count(Appeal.id))).scalar_one()
    decided = db.session.execute(
        select(func.count(Appeal.id)).where(Appeal.status != AppealStatus.OPEN)
    ).scalar_one()
    reversals = db.session.execute(
        select(func.count(Appeal.id)).where(Appeal.status == AppealStatus.UPHELD)
    ).scalar_one()
    return Figures(
        by_outcome=by_outcome,
        decided=sum(by_outcome.values()),
        median_hours=round(median(waits), 1) if waits else None,
        appeals=appeals,
        appeals_decided=decided,
        reversals=reversals,
    )
