"""Before/after result cases: a clinic's owner submits them with their context;
a moderator publishes or rejects them. Nothing is public before that."""

from __future__ import annotations

from directory.extensions import db
from directory.models import Clinic, Photo, Practitioner, ResultCase, User
from directory.models.statuses import ItemStatus
from directory.services import Invalid, NotAllowed, media, moderation
from directory.services.fields import text, whole
from directory.services.profiles import is_owner
from directory.vocab import GOALS, HAIR_COLOURS, SERVICES, SKIN_TYPES, STAGES


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
    _choice(treatment_type, SERVICES, "Choose a treatment type from the list.")
    _choice(stage, STAGES, "Choose a hair-loss stage from the list.")
    _choice(hair_colour, HAIR_COLOURS, "Choose a hair colour from the list.")
    _choice(goal, GOALS, "Choose a goal from the list.")
    skin = whole(skin_type, 1, 6, "Skin type")
    _choice(skin, SKIN_TYPES, "Choose a skin type from the list.")
    n_sessions = whole(sessions, 1, 20, "Sessions")
    months = whole(months_since_last_session, 0, 240, "Months since the last session")
    if n_sessions is None or months is None:
        raise Invalid("Give the number of sessions and the months since the last one.")
    if healed and months < 12:
        raise Invalid("A healed photo is taken at least 12 months after the last session.")
    practitioner = _practitioner(clinic, practitioner_id)
    case = ResultCase(
        clinic_id=clinic.id,
        practitioner_id=practitioner.id if practitioner else None,
        submitted_by_id=by.id,
        title=text(title, 160, "Title"),
        notes=text(notes, 2000, "Notes"),
        treatment_type=treatment_type,
        sessions=n_sessions,
        months_since_last_session=months,
        stage=stage,
        skin_type=skin,
        hair_colour=hair_colour,
        goal=goal,
        consent_confirmed=True,
        status=ItemStatus.PENDING.value,
    )
    photos = _ingest_photos(clinic, by, before=before, after=after, healed=healed)
    db.session.add(case)
    db.session.flush()
    case.before_photo_id = photos["before"].id
    case.after_photo_id = photos["after"].id
    case.healed_photo_id = photos["healed"].id if "healed" in photos else None
    return case


def _choice(value, allowed, message: str) -> None:
    if value is None or value not in allowed:
        raise Invalid(message)


def _practitioner(clinic: Clinic, practitioner_id) -> Practitioner | None:
    """The clinic's working practitioner chosen, or None when none was; Invalid otherwise."""
    if not practitioner_id:
        return None
    practitioner = db.session.get(Practitioner, int(practitioner_id))
    if (
        practitioner is None
        or practitioner.clinic_id != clinic.id
        or practitioner.retired_at is not None
    ):
        raise Invalid("Choose one of the clinic's practitioners.")
    return practitioner


def _ingest_photos(clinic: Clinic, by: User, **photos: bytes | None) -> dict[str, Photo]:
    """The before and after photos (required) and the healed one (optional), checked
    and stored in that order."""
    out = {}
    for kind, data in photos.items():
        if kind != "healed" and not data:
            raise Invalid(f"Add the {kind} photo.")
        if data:
            out[kind] = media.ingest(
                data, uploader_id=by.id, kind=kind, consent=True, clinic_id=clinic.id
            )
    return out


def case_photos(case: ResultCase) -> list[Photo]:
    return [p for p in (case.before_photo, case.after_photo, case.healed_photo) if p is not None]


def photo_matches(case: ResultCase) -> dict[int, list[Photo]]:
    """For each photo of the case, other photos on the site with a near-identical
    perceptual hash (the same result claimed twice, or a stock photo)."""
    own = {p.id for p in case_photos(case)}
    return {
        p.id: [o for o in media.similar_photos(p) if o.id not in own] for p in case_photos(case)
    }


def publish(case: ResultCase, *, by: User, reason_code: str, statement: str) -> None:
    """Publish the case and its photos; updates the clinic's result count. Never the score."""
    moderation.decide(case, "publish", by=by, reason_code=reason_code, statement=statement)


def reject(case: ResultCase, *, by: User, reason_code: str, statement: str) -> None:
    moderation.decide(case, "reject", by=by, reason_code=reason_code, statement=statement)
