"""Before/after result cases: a clinic's owner submits them with their context;
a moderator publishes or rejects them. Nothing is public before that."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from directory import search
from directory.extensions import db
from directory.models import Clinic, Photo, Practitioner, ResultCase, User
from directory.services import Invalid, InvalidState, NotAllowed, audit, mail, media
from directory.services.profiles import _int, _text, check_reason, ensure_may_decide, is_owner
from directory.vocab import GOALS, HAIR_COLOURS, REASON_CODES, SERVICES, SKIN_TYPES, STAGES


def submit(
    clinic: Clinic,
    *,
    by: User,
    before: bytes,
    after: bytes,
    healed: bytes | None,
    treatment_type: str,
    sessions,
    months_since_last_session,
    stage: str,
    skin_type,
    hair_colour: str,
    goal: str,
    practitioner_id: int | None = None,
    title: str | None = None,
    notes: str | None = None,
    consent: bool = False,
) -> ResultCase:
    """Stage a pending result case with its photos (through media.ingest).
    Raises NotAllowed for anyone but the owner, Invalid on bad input or photos."""
    if not is_owner(clinic, by):
        raise NotAllowed("Only the clinic's owner can add results.")
    if not consent:
        raise Invalid("Confirm that the person shown agreed to the photos being published.")
    if treatment_type not in SERVICES:
        raise Invalid("Choose a treatment type from the list.")
    if stage not in STAGES:
        raise Invalid("Choose a hair-loss stage from the list.")
    if hair_colour not in HAIR_COLOURS:
        raise Invalid("Choose a hair colour from the list.")
    if goal not in GOALS:
        raise Invalid("Choose a goal from the list.")
    skin = _int(skin_type, 1, 6, "Skin type")
    if skin is None or skin not in SKIN_TYPES:
        raise Invalid("Choose a skin type from the list.")
    n_sessions = _int(sessions, 1, 20, "Sessions")
    months = _int(months_since_last_session, 0, 240, "Months since the last session")
    if n_sessions is None or months is None:
        raise Invalid("Give the number of sessions and the months since the last one.")
    if healed and months < 12:
        raise Invalid("A healed photo is taken at least 12 months after the last session.")
    practitioner = None
    if practitioner_id:
        practitioner = db.session.get(Practitioner, int(practitioner_id))
        if (
            practitioner is None
            or practitioner.clinic_id != clinic.id
            or practitioner.retired_at is not None
        ):
            raise Invalid("Choose one of the clinic's practitioners.")
    case = ResultCase(
        clinic_id=clinic.id,
        practitioner_id=practitioner.id if practitioner else None,
        submitted_by_id=by.id,
        title=_text(title, 160, "Title"),
        notes=_text(notes, 2000, "Notes"),
        treatment_type=treatment_type,
        sessions=n_sessions,
        months_since_last_session=months,
        stage=stage,
        skin_type=skin,
        hair_colour=hair_colour,
        goal=goal,
        consent_confirmed=True,
        status="pending",
    )
    photos = {}
    for kind, data in (("before", before), ("after", after), ("healed", healed)):
        if kind != "healed" and not data:
            raise Invalid(f"Add the {kind} photo.")
        if data:
            photos[kind] = media.ingest(
                data, uploader_id=by.id, kind=kind, consent=True, clinic_id=clinic.id
            )
    db.session.add(case)
    db.session.flush()
    case.before_photo_id = photos["before"].id
    case.after_photo_id = photos["after"].id
    case.healed_photo_id = photos["healed"].id if "healed" in photos else None
    return case


def case_photos(case: ResultCase) -> list[Photo]:
    return [p for p in (case.before_photo, case.after_photo, case.healed_photo) if p is not None]


def pending() -> list[ResultCase]:
    stmt = (
        select(ResultCase)
        .where(ResultCase.status == "pending")
        .options(
            selectinload(ResultCase.clinic),
            selectinload(ResultCase.practitioner),
            selectinload(ResultCase.before_photo),
            selectinload(ResultCase.after_photo),
            selectinload(ResultCase.healed_photo),
        )
        .order_by(ResultCase.created_at, ResultCase.id)
    )
    return list(db.session.execute(stmt).scalars())


def photo_matches(case: ResultCase) -> dict[int, list[Photo]]:
    """For each photo of the case, other photos on the site with a near-identical
    perceptual hash (the same result claimed twice, or a stock photo)."""
    own = {p.id for p in case_photos(case)}
    return {
        p.id: [o for o in media.similar_photos(p) if o.id not in own] for p in case_photos(case)
    }


def refresh_result_count(clinic: Clinic) -> None:
    db.session.flush()
    clinic.result_count = db.session.execute(
        select(func.count(ResultCase.id)).where(
            ResultCase.clinic_id == clinic.id, ResultCase.status == "published"
        )
    ).scalar_one()


def _decide(case: ResultCase, *, by: User, publish: bool, reason_code: str, statement: str) -> None:
    clinic = case.clinic
    ensure_may_decide(by, clinic, case.submitted_by_id)
    check_reason(reason_code, statement)
    if case.status != "pending":
        raise InvalidState("This result case has already been decided.")
    previous = case.status
    now = datetime.now(UTC)
    case.status = "published" if publish else "rejected"
    if publish:
        case.published_at = now
    for photo in case_photos(case):
        photo.status = case.status
        if publish:
            photo.published_at = now
    refresh_result_count(clinic)
    search.mark_dirty(clinic.id)
    audit.record(
        by=by,
        item_type="result_case",
        item_id=case.id,
        action="publish" if publish else "reject",
        reason_code=reason_code,
        statement=statement,
        previous_status=previous,
        new_status=case.status,
        clinic_id=clinic.id,
        subject_user_id=case.submitted_by_id,
        item_submitted_at=case.created_at,
    )
    submitter = db.session.get(User, case.submitted_by_id) if case.submitted_by_id else None
    if submitter is not None:
        outcome = "published" if publish else "not published"
        mail.send(
            submitter.email,
            f"Your result case for {clinic.name} was {outcome}",
            f"Hello {submitter.display_name},\n\n"
            f"The before/after case you submitted for {clinic.name} "
            f"(result #{case.id}, {STAGES.get(case.stage, case.stage)}) was {outcome}.\n\n"
            f"Reason: {REASON_CODES[reason_code]}\nStatement of reasons: {statement.strip()}\n\n"
            "This decision was taken by a moderator, not automatically.\n",
        )


def publish(case: ResultCase, *, by: User, reason_code: str, statement: str) -> None:
    """Publish the case and its photos; updates the clinic's result count. Never the score."""
    _decide(case, by=by, publish=True, reason_code=reason_code, statement=statement)


def reject(case: ResultCase, *, by: User, reason_code: str, statement: str) -> None:
    _decide(case, by=by, publish=False, reason_code=reason_code, statement=statement)
