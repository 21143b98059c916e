"""Clinic profiles as their owners keep them: registering a new clinic, editing
the profile and its practitioners. Field validation lives in services.fields, the
owner's dashboard in services.dashboard, and decisions on clinics (listing,
rejecting, suspending, reinstating) in the moderation workflow.

Nothing here touches a clinic's score: profile fields (price included) are
never inputs to it. Every change is kept as ClinicChange rows (one per field)
and marks the clinic dirty for search.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import func, or_, select

from directory import search
from directory.extensions import db
from directory.models import (
    Clinic,
    ClinicChange,
    Practitioner,
    User,
)
from directory.models.statuses import PUBLIC_CLINIC, ClinicStatus
from directory.services import Invalid, InvalidState, NotAllowed, NotFound, fields

RESERVED_SLUGS = frozenset({"claim", "clinics", "new"})
DUPLICATE_RATIO = 0.85
EDITABLE_STATUSES = (*PUBLIC_CLINIC, ClinicStatus.SUSPENDED)


# ---------------------------------------------------------------- helpers


def normalise_tokens(text: str) -> list[str]:
    """Lower-case ASCII words without the generic words clinic names share."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    generic = {
        "the",
        "smp",
        "scalp",
        "micropigmentation",
        "clinic",
        "studio",
        "and",
        "of",
        "ltd",
        "llc",
        "inc",
        "hair",
        "centre",
        "center",
    }
    return [w for w in words if w not in generic] or words


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100] or "clinic"


def unique_slug(name: str, city: str) -> str:
    base = slugify(f"{name} {city}")
    slug, n = base, 2
    while (
        slug in RESERVED_SLUGS
        or db.session.execute(select(Clinic.id).where(Clinic.slug == slug)).first()
    ):
        slug = f"{base}-{n}"
        n += 1
    return slug


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _locate(values: dict, clinic: Clinic | None, manual_coordinates: bool) -> None:
    """Fill latitude/longitude: by hand when asked, else from the city through the gazetteer."""
    if manual_coordinates:
        lat, lon = values.get("latitude"), values.get("longitude")
        if (lat is None) != (lon is None):
            raise Invalid("Give both latitude and longitude, or neither.")
        return
    values.pop("latitude", None)
    values.pop("longitude", None)
    city = values.get("city", clinic.city if clinic else None)
    country = values.get("country", clinic.country if clinic else None)
    moved = (
        clinic is None
        or city != clinic.city
        or country != clinic.country
        or clinic.latitude is None
    )
    if not moved:
        return
    found = search.coordinates(city or "", country or "")
    if found is None:
        raise Invalid(
            f"We could not find “{city}” in {country}. Check the spelling or enter "
            "the latitude and longitude by hand."
        )
    values["latitude"], values["longitude"] = found


# ---------------------------------------------------------------- access


def is_owner(clinic: Clinic, user: User | None) -> bool:
    return user is not None and clinic.owner_id is not None and clinic.owner_id == user.id


def owned_clinic(slug: str, user: User) -> Clinic:
    """The clinic if the user owns it. NotFound for no such clinic, NotAllowed otherwise."""
    clinic = db.session.execute(
        select(Clinic).where(Clinic.slug == slug[:120])
    ).scalar_one_or_none()
    if clinic is None:
        raise NotFound("There is no such clinic.")
    if not is_owner(clinic, user):
        raise NotAllowed("Only the clinic's owner can manage it.")
    if clinic.status not in EDITABLE_STATUSES:
        raise InvalidState("This clinic cannot be managed in its current state.")
    return clinic


# ---------------------------------------------------------------- new clinics


def find_duplicates(
    name: str, city: str, *, exclude_id: int | None = None, limit: int = 5
) -> list[Clinic]:
    """Clinics in the same city (case-insensitive) whose names closely match."""
    if not name or not city:
        return []
    stmt = select(Clinic).where(func.lower(Clinic.city) == city.strip().lower())
    if exclude_id is not None:
        stmt = stmt.where(Clinic.id != exclude_id)
    wanted = " ".join(normalise_tokens(name))
    wanted_set = set(wanted.split())
    found = []
    for clinic in db.session.execute(stmt).scalars():
        other = " ".join(normalise_tokens(clinic.name))
        ratio = difflib.SequenceMatcher(None, wanted, other).ratio()
        if ratio >= DUPLICATE_RATIO or (wanted_set and wanted_set == set(other.split())):
            found.append(clinic)
    return found[:limit]


def create_clinic(*, by: User, data: dict, manual_coordinates: bool = False) -> Clinic:
    """Register a new clinic as pending; a moderator lists it. The registrant
    becomes its owner when it is published."""
    values = fields.clean_profile(data)
    for key, label in (("name", "Name"), ("city", "City"), ("country", "Country")):
        if not values.get(key):
            raise Invalid(f"{label} is required.")
    _locate(values, None, manual_coordinates)
    clinic = Clinic(
        slug=unique_slug(values["name"], values["city"]),
        status=ClinicStatus.PENDING.value,
        submitted_by_id=by.id,
        **{k: v for k, v in values.items() if k in fields.PROFILE_FIELDS},
    )
    clinic.services = values.get("services", [])
    clinic.languages = values.get("languages", [])
    db.session.add(clinic)
    db.session.flush()
    return clinic


# ---------------------------------------------------------------- profile


def update_profile(
    clinic: Clinic, *, by: User, data: dict, manual_coordinates: bool = False
) -> list[ClinicChange]:
    """Apply the owner's edits at once; one ClinicChange per changed field.
    Never touches the score. Raises NotAllowed or Invalid."""
    if not is_owner(clinic, by):
        raise NotAllowed("Only the clinic's owner can edit its profile.")
    values = fields.clean_profile(data, current=clinic)
    _locate(values, clinic, manual_coordinates)
    changes = []
    for key in fields.PROFILE_FIELDS:
        if key not in values:
            continue
        old, new = getattr(clinic, key), values[key]
        if old == new or (old in (None, "", []) and new in (None, "", [])):
            continue
        changes.append(
            ClinicChange(
                clinic_id=clinic.id,
                user_id=by.id,
                field=key,
                old_value=_as_text(old),
                new_value=_as_text(new),
            )
        )
        setattr(clinic, key, list(new) if isinstance(new, list) else new)
    if changes:
        db.session.add_all(changes)
        search.mark_dirty(clinic.id)
    return changes


def history(clinic: Clinic, limit: int = 200) -> list[ClinicChange]:
    stmt = (
        select(ClinicChange)
        .where(ClinicChange.clinic_id == clinic.id)
        .order_by(ClinicChange.created_at.desc(), ClinicChange.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


# ---------------------------------------------------------------- practitioners


def _clean_practitioner(name, years, training) -> dict:
    return {
        "name": fields.text(name, 120, "Name", required=True),
        "years_practice": fields.whole(years, 0, 70, "Years of practice"),
        "training": fields.text(training, 2000, "Training"),
    }


def _practitioner_change(
    clinic: Clinic, by: User, what: str, old: str | None, new: str | None
) -> None:
    db.session.add(
        ClinicChange(
            clinic_id=clinic.id, user_id=by.id, field=what[:60], old_value=old, new_value=new
        )
    )


def add_practitioner(
    clinic: Clinic, *, by: User, name: str, years_practice=None, training: str | None = None
) -> Practitioner:
    if not is_owner(clinic, by):
        raise NotAllowed("Only the clinic's owner can add practitioners.")
    values = _clean_practitioner(name, years_practice, training)
    practitioner = Practitioner(clinic_id=clinic.id, **values)
    db.session.add(practitioner)
    db.session.flush()
    _practitioner_change(clinic, by, f"practitioner #{practitioner.id} added", None, values["name"])
    search.mark_dirty(clinic.id)
    return practitioner


def owned_practitioner(clinic: Clinic, practitioner_id: int) -> Practitioner:
    p = db.session.get(Practitioner, practitioner_id)
    if p is None or p.clinic_id != clinic.id:
        raise NotFound("There is no such practitioner at this clinic.")
    return p


def update_practitioner(
    practitioner: Practitioner,
    *,
    by: User,
    name: str,
    years_practice=None,
    training: str | None = None,
) -> None:
    clinic = practitioner.clinic
    if not is_owner(clinic, by):
        raise NotAllowed("Only the clinic's owner can edit practitioners.")
    if practitioner.retired_at is not None:
        raise InvalidState("This practitioner has retired.")
    values = _clean_practitioner(name, years_practice, training)
    changed = False
    for key, new in values.items():
        old = getattr(practitioner, key)
        if old != new:
            _practitioner_change(
                clinic, by, f"practitioner #{practitioner.id} {key}", _as_text(old), _as_text(new)
            )
            setattr(practitioner, key, new)
            changed = True
    if changed:
        search.mark_dirty(clinic.id)


def retire_practitioner(practitioner: Practitioner, *, by: User) -> None:
    """Retire (not delete): reviews naming the practitioner keep their link."""
    clinic = practitioner.clinic
    if not is_owner(clinic, by):
        raise NotAllowed("Only the clinic's owner can retire practitioners.")
    if practitioner.retired_at is not None:
        raise InvalidState("This practitioner has already retired.")
    practitioner.retired_at = datetime.now(UTC)
    _practitioner_change(
        clinic, by, f"practitioner #{practitioner.id} retired", practitioner.name, None
    )
    search.mark_dirty(clinic.id)


# ---------------------------------------------------------------- moderators' look-up


def find_for_moderation(query: str, limit: int = 50) -> list[Clinic]:
    """Clinics whose name or city contains `query` (any status), plus every suspended one."""
    stmt = select(Clinic)
    query = (query or "").strip().lower()[:120]
    if query:
        like = "%" + query.replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(
            or_(func.lower(Clinic.name).like(like), func.lower(Clinic.city).like(like))
        )
    else:
        stmt = stmt.where(Clinic.status == ClinicStatus.SUSPENDED)
    return list(db.session.execute(stmt.order_by(Clinic.name).limit(limit)).scalars())
