"""Moderators' decisions on testimonials, follow-ups, review photos, reports and appeals.

Every decision: checks that the moderator may decide (never on their own item,
never on a clinic they own), changes the item, recomputes the clinic's score in
the same transaction when a score input changed, writes one append-only audit
row (services.audit.record) naming the author as subject, and tells the author
by e-mail with the statement of reasons and how to appeal.

Photos: publishing a testimonial publishes its photos that carry the uploader's
consent; the photo queue decides photos one by one (reject a single photo, or
publish a pending photo of an already published testimonial).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from directory import search, trust
from directory.extensions import db
from directory.models import (
    Appeal,
    Clinic,
    FollowUp,
    ModerationDecision,
    Photo,
    Report,
    ResultCase,
    Review,
    User,
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
from directory.vocab import HIDING_REPORT_REASONS, REASON_CODES

REVIEW_ACTIONS = ("publish", "reject", "remove", "verify")
FOLLOWUP_ACTIONS = ("publish", "reject", "remove")
PHOTO_ACTIONS = ("publish", "reject")
ITEM_LABELS = {
    "review": "testimonial",
    "followup": "follow-up",
    "photo": "photo",
    "result_case": "before/after result",
    "report": "report",
    "appeal": "appeal",
}


def _now() -> datetime:
    return datetime.now(UTC)


# --- who may decide -------------------------------------------------------------------


def _check(by: User, author_id: int | None, clinic: Clinic | None) -> None:
    audit.ensure_may_decide(by, clinic, author_id)


def _reason(reason_code: str) -> str:
    if reason_code not in REASON_CODES:
        raise Invalid("Choose a reason code.")
    return reason_code


def _tell(user_id: int | None, subject: str, lines: list[str]) -> None:
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return
    mail.send(user.email, subject, "\n".join(lines) + "\n")


def _statement_lines(
    what: str, action: str, reason_code: str, statement: str, can_appeal: bool
) -> list[str]:
    lines = [
        f"A moderator has decided on your {what}.",
        "",
        f"Decision: {action}",
        f"Rule applied: {REASON_CODES[reason_code]} ({reason_code})",
        f"Statement of reasons: {statement.strip()}",
        "Automated: no, a person decided.",
    ]
    if can_appeal:
        lines += [
            "",
            "You can appeal once, with a short explanation, from your account page "
            f"({mail.external_url('/account')}). A different moderator will decide.",
        ]
    lines += ["", "You can see every decision about your items on your account page."]
    return lines


def _decide(
    item,
    *,
    by,
    item_type,
    action,
    reason_code,
    statement,
    previous,
    new,
    clinic,
    author_id,
    submitted_at,
    what_for_mail: str,
) -> ModerationDecision:
    row = audit.record(
        by=by,
        item_type=item_type,
        item_id=item.id,
        action=action,
        reason_code=reason_code,
        statement=statement,
        previous_status=previous,
        new_status=new,
        clinic_id=clinic.id if clinic else None,
        subject_user_id=author_id,
        item_submitted_at=submitted_at,
    )
    can_appeal = new in ("rejected", "removed")
    _tell(
        author_id,
        f"Decision on your {what_for_mail}: {action}",
        _statement_lines(what_for_mail, action, reason_code, statement, can_appeal),
    )
    return row


# --- testimonials -----------------------------------------------------------------------


def decide_review(
    review: Review,
    *,
    by: User,
    action: str,
    reason_code: str,
    statement: str,
    proof: str | None = None,
) -> ModerationDecision:
    """publish (pending), reject (pending), remove (published) or verify (pending or
    published, with the proof seen). Raises NotAllowed, InvalidState, Invalid."""
    clinic = db.session.get(Clinic, review.clinic_id)
    _check(by, review.author_id, clinic)
    _reason(reason_code)
    if action not in REVIEW_ACTIONS:
        raise Invalid("Unknown decision.")
    previous = review.status
    now = _now()
    if action == "publish":
        if previous != "pending":
            raise InvalidState("Only a pending testimonial can be published.")
        _publish_review(review, now)
    elif action == "reject":
        if previous != "pending":
            raise InvalidState("Only a pending testimonial can be rejected.")
        review.status = "rejected"
        for p in review.photos:
            if p.status == "pending":
                p.status = "rejected"
    elif action == "remove":
        if previous != "published":
            raise InvalidState("Only a published testimonial can be removed.")
        review.status = "removed"
    elif action == "verify":
        proof = (proof or "").strip()
        if len(proof) < 5:
            raise Invalid("Say what proof of treatment you saw (an invoice, a booking...).")
        if previous not in ("pending", "published"):
            raise InvalidState("Only a pending or published testimonial can be verified.")
        if review.verified_at is not None:
            raise InvalidState("This treatment is already verified.")
        review.verified_at = now
        review.verified_by_id = by.id
        review.verification_note = proof[:1000]
        statement = f"{statement.strip()} Proof seen: {proof}"
    row = _decide(
        review,
        by=by,
        item_type="review",
        action=action,
        reason_code=reason_code,
        statement=statement,
        previous=previous,
        new=review.status,
        clinic=clinic,
        author_id=review.author_id,
        submitted_at=review.created_at,
        what_for_mail=f"testimonial about {clinic.name}",
    )
    if previous == "published" or review.status == "published":
        scores.recompute_clinic(clinic, now)
    return row


def _publish_review(review: Review, now: datetime) -> None:
    review.status = "published"
    review.published_at = now
    review.hidden_pending_report = False
    for p in review.photos:
        if p.status == "pending" and p.consent_confirmed:
            p.status = "published"
            p.published_at = now


# --- follow-ups -------------------------------------------------------------------------


def decide_followup(
    fu: FollowUp, *, by: User, action: str, reason_code: str, statement: str
) -> ModerationDecision:
    review = fu.review
    clinic = db.session.get(Clinic, review.clinic_id)
    _check(by, review.author_id, clinic)
    _reason(reason_code)
    if action not in FOLLOWUP_ACTIONS:
        raise Invalid("Unknown decision.")
    previous = fu.status
    now = _now()
    if action == "publish":
        if previous != "pending":
            raise InvalidState("Only a pending follow-up can be published.")
        fu.status, fu.published_at = "published", now
    elif action == "reject":
        if previous != "pending":
            raise InvalidState("Only a pending follow-up can be rejected.")
        fu.status = "rejected"
    else:
        if previous != "published":
            raise InvalidState("Only a published follow-up can be removed.")
        fu.status = "removed"
    row = _decide(
        fu,
        by=by,
        item_type="followup",
        action=action,
        reason_code=reason_code,
        statement=statement,
        previous=previous,
        new=fu.status,
        clinic=clinic,
        author_id=review.author_id,
        submitted_at=fu.created_at,
        what_for_mail=f"follow-up about {clinic.name}",
    )
    if review.status == "published":
        scores.recompute_clinic(clinic, now)
    return row


# --- photos -----------------------------------------------------------------------------


def decide_photo(
    photo: Photo, *, by: User, action: str, reason_code: str, statement: str
) -> ModerationDecision:
    if photo.review_id is None:
        raise NotFound("This photo belongs to a result case; decide it in that queue.")
    review = db.session.get(Review, photo.review_id)
    clinic = db.session.get(Clinic, review.clinic_id)
    _check(by, photo.uploader_id, clinic)
    _check(by, review.author_id, clinic)
    _reason(reason_code)
    if action not in PHOTO_ACTIONS:
        raise Invalid("Unknown decision.")
    previous = photo.status
    now = _now()
    if action == "publish":
        if previous != "pending":
            raise InvalidState("Only a pending photo can be published.")
        if review.status != "published":
            raise InvalidState("Decide the testimonial first: its photos are published with it.")
        if not photo.consent_confirmed:
            raise InvalidState("The uploader did not confirm consent for this photo.")
        photo.status, photo.published_at = "published", now
    else:
        if previous not in ("pending", "published"):
            raise InvalidState("This photo has already been decided.")
        photo.status = "rejected" if previous == "pending" else "removed"
    row = _decide(
        photo,
        by=by,
        item_type="photo",
        action=action,
        reason_code=reason_code,
        statement=statement,
        previous=previous,
        new=photo.status,
        clinic=clinic,
        author_id=photo.uploader_id,
        submitted_at=photo.created_at,
        what_for_mail=f"photo with your testimonial about {clinic.name}",
    )
    if review.status == "published":
        scores.recompute_clinic(clinic, now)
    return row


# --- reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    item_type: str
    item: object
    clinic: Clinic | None
    author_id: int | None

    @property
    def status(self) -> str:
        return self.item.status


def target_of(item_type: str, item_id: int) -> Target:
    """The reported or appealed item with its clinic and author; NotFound otherwise."""
    if item_type == "review":
        item = db.session.get(Review, item_id)
        if item is None:
            raise NotFound("No such testimonial.")
        return Target("review", item, db.session.get(Clinic, item.clinic_id), item.author_id)
    if item_type == "followup":
        item = db.session.get(FollowUp, item_id)
        if item is None:
            raise NotFound("No such follow-up.")
        return Target(
            "followup", item, db.session.get(Clinic, item.review.clinic_id), item.review.author_id
        )
    if item_type == "photo":
        item = db.session.get(Photo, item_id)
        if item is None:
            raise NotFound("No such photo.")
        clinic_id = item.clinic_id
        if clinic_id is None and item.review_id is not None:
            clinic_id = db.session.get(Review, item.review_id).clinic_id
        return Target(
            "photo",
            item,
            db.session.get(Clinic, clinic_id) if clinic_id else None,
            item.uploader_id,
        )
    if item_type == "result_case":
        item = db.session.get(ResultCase, item_id)
        if item is None:
            raise NotFound("No such result.")
        return Target(
            "result_case", item, db.session.get(Clinic, item.clinic_id), item.submitted_by_id
        )
    raise NotFound("Unknown kind of item.")


def _set_status(target: Target, new: str, now: datetime) -> None:
    item = target.item
    item.status = new
    if new == "published" and hasattr(item, "published_at"):
        item.published_at = item.published_at or now
    if target.item_type == "review" and new == "published":
        item.hidden_pending_report = False


def _affects_score(target: Target) -> bool:
    if target.item_type in ("review", "followup"):
        return True
    if target.item_type == "photo":
        return target.item.review_id is not None
    return False


def open_hiding_reports(item_type: str, item_id: int, excluding: int | None = None) -> int:
    stmt = select(func.count(Report.id)).where(
        Report.target_type == item_type,
        Report.target_id == item_id,
        Report.status == "open",
        Report.reason.in_(sorted(HIDING_REPORT_REASONS)),
    )
    if excluding is not None:
        stmt = stmt.where(Report.id != excluding)
    return db.session.execute(stmt).scalar_one()


def decide_report(
    report: Report, *, by: User, uphold: bool, reason_code: str, statement: str
) -> ModerationDecision:
    """Uphold (remove the item) or dismiss (keep it). The author of the item is told."""
    if report.status != "open":
        raise InvalidState("This report has already been decided.")
    target = target_of(report.target_type, report.target_id)
    _check(by, target.author_id, target.clinic)
    if report.reporter_id is not None and report.reporter_id == by.id:
        raise NotAllowed("You cannot decide on your own report.")
    _reason(reason_code)
    now = _now()
    previous = target.status
    report.status = "upheld" if uphold else "dismissed"
    report.decided_at = now
    if uphold and previous == "published":
        _set_status(target, "removed", now)
    # Close every other open report on the same item with the same outcome.
    for other in db.session.execute(
        select(Report).where(
            Report.target_type == report.target_type,
            Report.target_id == report.target_id,
            Report.status == "open",
            Report.id != report.id,
        )
    ).scalars():
        if uphold:
            other.status, other.decided_at = "upheld", now
    db.session.flush()
    if target.item_type == "review" and open_hiding_reports("review", target.item.id) == 0:
        target.item.hidden_pending_report = False
    action = "remove" if uphold else "keep"
    what = ITEM_LABELS[target.item_type] + (f" about {target.clinic.name}" if target.clinic else "")
    row = _decide(
        target.item,
        by=by,
        item_type=target.item_type,
        action=action,
        reason_code=reason_code,
        statement=statement,
        previous=previous,
        new=target.status,
        clinic=target.clinic,
        author_id=target.author_id,
        submitted_at=report.created_at,
        what_for_mail=what,
    )
    if target.clinic is not None:
        if _affects_score(target):
            scores.recompute_clinic(target.clinic, now)
        else:
            search.mark_dirty(target.clinic.id)
    return row


# --- appeals ----------------------------------------------------------------------------

APPEALABLE = ("review", "followup", "photo", "result_case")


def last_adverse_decision(item_type: str, item_id: int) -> ModerationDecision | None:
    return db.session.execute(
        select(ModerationDecision)
        .where(ModerationDecision.item_type == item_type, ModerationDecision.item_id == item_id)
        .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def file_appeal(item_type: str, item_id: int, *, by: User, text: str) -> Appeal:
    """The author appeals once against the rejection or removal of their item."""
    if item_type not in APPEALABLE:
        raise NotFound("Unknown kind of item.")
    target = target_of(item_type, item_id)
    if target.author_id is None or target.author_id != by.id:
        raise NotAllowed("Only the author can appeal a decision on this item.")
    if target.status not in ("rejected", "removed"):
        raise InvalidState("Only a rejected or removed item can be appealed.")
    decision = last_adverse_decision(item_type, item_id)
    if decision is None or decision.new_status not in ("rejected", "removed"):
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
        status="open",
    )
    try:
        with db.session.begin_nested():  # the unique constraint answers races
            db.session.add(appeal)
    except IntegrityError:
        raise InvalidState(
            "You have already appealed this decision; an item can be appealed once."
        ) from None
    return appeal


def decide_appeal(
    appeal: Appeal, *, by: User, uphold: bool, reason_code: str, statement: str
) -> ModerationDecision:
    """A moderator other than the one who decided: uphold (restore the item) or deny."""
    if appeal.status != "open":
        raise InvalidState("This appeal has already been decided.")
    target = target_of(appeal.item_type, appeal.item_id)
    _check(by, target.author_id, target.clinic)
    if appeal.decision.moderator_id is not None and appeal.decision.moderator_id == by.id:
        raise NotAllowed("A different moderator must decide an appeal against your decision.")
    _reason(reason_code)
    now = _now()
    previous = target.status
    appeal.status = "upheld" if uphold else "denied"
    appeal.decided_by_id = by.id
    appeal.decided_at = now
    if uphold:
        if target.item_type == "review":
            _publish_review(target.item, now)
        else:
            _set_status(target, "published", now)
    action = "appeal_upheld" if uphold else "appeal_denied"
    what = ITEM_LABELS[target.item_type] + (f" about {target.clinic.name}" if target.clinic else "")
    row = audit.record(
        by=by,
        item_type=target.item_type,
        item_id=target.item.id,
        action=action,
        reason_code=reason_code,
        statement=statement,
        previous_status=previous,
        new_status=target.status,
        clinic_id=target.clinic.id if target.clinic else None,
        subject_user_id=target.author_id,
        item_submitted_at=appeal.created_at,
    )
    lines = _statement_lines(
        what + " (your appeal)",
        "appeal upheld, item restored" if uphold else "appeal denied",
        reason_code,
        statement,
        can_appeal=False,
    )
    lines.insert(1, "This was the final decision on your appeal.")
    _tell(target.author_id, f"Decision on your appeal: {'upheld' if uphold else 'denied'}", lines)
    if target.clinic is not None:
        if _affects_score(target):
            scores.recompute_clinic(target.clinic, now)
        else:
            search.mark_dirty(target.clinic.id)
    return row


# --- queues and signals -------------------------------------------------------------------


def pending_reviews(limit: int = 50) -> list[Review]:
    return list(
        db.session.execute(
            select(Review)
            .where(Review.status == "pending")
            .order_by(Review.created_at, Review.id)
            .limit(limit)
        ).scalars()
    )


def pending_followups(limit: int = 50) -> list[FollowUp]:
    return list(
        db.session.execute(
            select(FollowUp)
            .where(FollowUp.status == "pending")
            .order_by(FollowUp.created_at, FollowUp.id)
            .limit(limit)
        ).scalars()
    )


def pending_photos(limit: int = 50) -> list[Photo]:
    """Review photos waiting for a decision whose testimonial is already published
    (photos of pending testimonials are decided with them)."""
    return list(
        db.session.execute(
            select(Photo)
            .join(Review, Review.id == Photo.review_id)
            .where(Photo.status == "pending", Review.status == "published")
            .order_by(Photo.created_at, Photo.id)
            .limit(limit)
        ).scalars()
    )


def open_reports(limit: int = 50) -> list[Report]:
    return list(
        db.session.execute(
            select(Report)
            .where(Report.status == "open")
            .order_by(Report.created_at, Report.id)
            .limit(limit)
        ).scalars()
    )


def open_appeals(limit: int = 50) -> list[Appeal]:
    return list(
        db.session.execute(
            select(Appeal)
            .where(Appeal.status == "open")
            .order_by(Appeal.created_at, Appeal.id)
            .limit(limit)
        ).scalars()
    )


def _queue(model, *conds, join=None) -> tuple[int, datetime | None]:
    stmt = select(func.count(model.id), func.min(model.created_at))
    if join is not None:
        stmt = stmt.join(*join)
    count, oldest = db.session.execute(stmt.where(*conds)).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return count, oldest


def queue_sizes() -> dict[str, tuple[int, datetime | None]]:
    """Each queue's size and its oldest waiting item's time."""
    from directory.models import ClinicClaim

    return {
        "reviews": _queue(Review, Review.status == "pending"),
        "followups": _queue(FollowUp, FollowUp.status == "pending"),
        "photos": _queue(
            Photo,
            Photo.status == "pending",
            Review.status == "published",
            join=(Review, Review.id == Photo.review_id),
        ),
        "reports": _queue(Report, Report.status == "open"),
        "appeals": _queue(Appeal, Appeal.status == "open"),
        "claims": _queue(ClinicClaim, ClinicClaim.status == "pending"),
        "new_clinics": _queue(Clinic, Clinic.status == "pending"),
        "results": _queue(ResultCase, ResultCase.status == "pending"),
    }


def signals_for_review(review: Review, now: datetime | None = None) -> list[trust.Signal]:
    """The trust signals of DESIGN.md section 5 for one testimonial (services.signals)."""
    from directory.services import signals

    return signals.for_queue([review], now)[review.id]


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
    """Moderation figures for /how-we-rank: decisions by outcome (automated and
    appeal rows excluded), median time to decision, appeals and reversals."""
    rows = db.session.execute(
        select(
            ModerationDecision.action,
            ModerationDecision.created_at,
            ModerationDecision.item_submitted_at,
        ).where(ModerationDecision.item_type.in_(("review", "followup", "photo")))
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
        select(func.count(Appeal.id)).where(Appeal.status != "open")
    ).scalar_one()
    reversals = db.session.execute(
        select(func.count(Appeal.id)).where(Appeal.status == "upheld")
    ).scalar_one()
    return Figures(
        by_outcome=by_outcome,
        decided=sum(by_outcome.values()),
        median_hours=round(median(waits), 1) if waits else None,
        appeals=appeals,
        appeals_decided=decided,
        reversals=reversals,
    )
