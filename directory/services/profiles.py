"""Clinic profiles as their owners keep them: registering a new clinic,
editing the profile and its practitioners, and the owner's dashboard figures.

Nothing here touches a clinic's score: profile fields (price included) are
never inputs to it. Every change is kept as ClinicChange rows (one per field)
and marks the clinic dirty for search.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from directory import search
from directory.extensions import db
from directory.models import (
    Clinic,
    ClinicChange,
    ClinicClaim,
    ClinicReply,
    ClinicScoreMonth,
    ClinicViewDay,
    Practitioner,
    Report,
    ResultCase,
    Review,
    User,
)
from directory.services import Invalid, InvalidState, NotAllowed, NotFound
from directory.vocab import CURRENCIES, SERVICES

# Profile fields an owner may change, in form order. Anything else posted
# (status, owner, scores, counts) is ignored.
PROFILE_FIELDS = (
    "name",
    "description",
    "email",
    "phone",
    "website",
    "address",
    "postal_code",
    "city",
    "region",
    "country",
    "latitude",
    "longitude",
    "services",
    "price_min",
    "price_max",
    "currency",
    "languages",
    "year_founded",
)
RESERVED_SLUGS = frozenset({"claim", "clinics", "new"})
DUPLICATE_RATIO = 0.85
EDITABLE_STATUSES = ("listed", "claimed", "verified", "suspended")


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


def website_ok(url: str) -> bool:
    """Absolute http(s) URL with a host and nothing that could be a script."""
    if not url or len(url) > 300 or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "." in parts.hostname


def website_domain(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host or None


def email_matches_website(email: str | None, website: str | None) -> bool:
    """True when the e-mail's domain is the website's domain or a subdomain of it."""
    domain = website_domain(website)
    if not email or "@" not in email or not domain:
        return False
    mail_domain = email.rsplit("@", 1)[1].strip().lower()
    return mail_domain == domain or mail_domain.endswith("." + domain)


def _text(value, limit: int, label: str, required: bool = False) -> str | None:
    value = value if isinstance(value, str) else ("" if value is None else str(value))
    # Browsers send textareas with CRLF; store one kind of line break.
    value = value.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not value:
        raise Invalid(f"{label} is required.")
    if len(value) > limit:
        raise Invalid(f"{label} is too long (at most {limit} characters).")
    return value or None


def _int(value, lo: int, hi: int, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{label} must be a whole number.") from None
    if not lo <= number <= hi:
        raise Invalid(f"{label} must be between {lo} and {hi}.")
    return number


def _float(value, lo: float, hi: float, label: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{label} must be a number.") from None
    if not lo <= number <= hi:
        raise Invalid(f"{label} must be between {lo} and {hi}.")
    return number


def clean_profile(data: dict, *, current: Clinic | None = None) -> dict:
    """Validate profile fields; returns only known fields, normalised. Raises Invalid."""
    out: dict = {}
    present = {k: data[k] for k in PROFILE_FIELDS if k in data}
    if "name" in present:
        out["name"] = _text(present["name"], 160, "Name", required=True)
    if "description" in present:
        out["description"] = _text(present["description"], 5000, "Description") or ""
    if "email" in present:
        email = _text(present["email"], 254, "E-mail")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise Invalid("Enter a valid e-mail address.")
        out["email"] = email.lower() if email else None
    if "phone" in present:
        phone = _text(present["phone"], 40, "Phone")
        if phone and not re.fullmatch(r"[0-9+()./ -]{5,40}", phone):
            raise Invalid("A phone number may hold digits, spaces and + ( ) - . / only.")
        out["phone"] = phone
    if "website" in present:
        website = _text(present["website"], 300, "Website")
        if website and not website_ok(website):
            raise Invalid("The website must be a full address starting with http:// or https://.")
        out["website"] = website
    for key, limit, label in (
        ("address", 300, "Address"),
        ("postal_code", 20, "Postal code"),
        ("region", 120, "Region"),
    ):
        if key in present:
            out[key] = _text(present[key], limit, label)
    if "city" in present:
        out["city"] = _text(present["city"], 120, "City", required=True)
    if "country" in present:
        country = (_text(present["country"], 2, "Country", required=True) or "").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise Invalid("Country must be a two-letter ISO code such as GB or US.")
        out["country"] = country
    if "latitude" in present:
        out["latitude"] = _float(present["latitude"], -90, 90, "Latitude")
    if "longitude" in present:
        out["longitude"] = _float(present["longitude"], -180, 180, "Longitude")
    if "services" in present:
        services = list(dict.fromkeys(present["services"] or []))
        unknown = [s for s in services if s not in SERVICES]
        if unknown:
            raise Invalid("Unknown service.")
        out["services"] = [s for s in SERVICES if s in services]
    if "price_min" in present:
        out["price_min"] = _int(present["price_min"], 0, 10_000_000, "Lowest price")
    if "price_max" in present:
        out["price_max"] = _int(present["price_max"], 0, 10_000_000, "Highest price")
    lo = out.get("price_min", current.price_min if current else None)
    hi = out.get("price_max", current.price_max if current else None)
    if lo is not None and hi is not None and lo > hi:
        raise Invalid("The lowest price cannot be above the highest price.")
    if "currency" in present:
        currency = (present["currency"] or "").upper()
        if currency not in CURRENCIES:
            raise Invalid("Choose a currency from the list.")
        out["currency"] = currency
    if "languages" in present:
        raw = present["languages"]
        items = raw if isinstance(raw, list) else re.split(r"[,;\n]", raw or "")
        langs = list(dict.fromkeys(x.strip() for x in items if x and x.strip()))
        if len(langs) > 20 or any(len(x) > 40 for x in langs):
            raise Invalid("List at most 20 languages of at most 40 characters each.")
        out["languages"] = langs
    if "year_founded" in present:
        out["year_founded"] = _int(
            present["year_founded"], 1950, datetime.now(UTC).year, "Year founded"
        )
    return out


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


def check_reason(reason_code: str, statement: str) -> None:
    """Validate a decision's reason before anything changes (audit.record checks it again)."""
    from directory.services.audit import MIN_STATEMENT
    from directory.vocab import REASON_CODES

    if reason_code not in REASON_CODES:
        raise Invalid("Choose a reason from the list.")
    if len((statement or "").strip()) < MIN_STATEMENT:
        raise Invalid(f"Give a statement of reasons (at least {MIN_STATEMENT} characters).")


def ensure_may_decide(by: User, clinic: Clinic | None, submitter_id: int | None) -> None:
    """A moderator decides, never on their own item nor on one of a clinic they own."""
    from directory.services import audit

    audit.ensure_may_decide(by, clinic, submitter_id)


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
    values = clean_profile(data)
    for key, label in (("name", "Name"), ("city", "City"), ("country", "Country")):
        if not values.get(key):
            raise Invalid(f"{label} is required.")
    _locate(values, None, manual_coordinates)
    clinic = Clinic(
        slug=unique_slug(values["name"], values["city"]),
        status="pending",
        submitted_by_id=by.id,
        **{k: v for k, v in values.items() if k in PROFILE_FIELDS},
    )
    clinic.services = values.get("services", [])
    clinic.languages = values.get("languages", [])
    db.session.add(clinic)
    db.session.flush()
    return clinic


def pending_clinics() -> list[Clinic]:
    stmt = select(Clinic).where(Clinic.status == "pending").order_by(Clinic.created_at, Clinic.id)
    return list(db.session.execute(stmt).scalars())


def decide_clinic(
    clinic: Clinic, *, by: User, publish: bool, reason_code: str, statement: str
) -> None:
    """Publish (status listed, registrant becomes owner) or reject a registered clinic."""
    from directory.services import audit, mail

    ensure_may_decide(by, clinic, clinic.submitted_by_id)
    check_reason(reason_code, statement)
    if clinic.status != "pending":
        raise InvalidState("This clinic has already been decided.")
    submitter = db.session.get(User, clinic.submitted_by_id) if clinic.submitted_by_id else None
    previous = clinic.status
    if publish:
        clinic.status = "listed"
        clinic.status_reason = None
        if submitter is not None:
            clinic.owner_id = submitter.id
            if submitter.role == "consumer":
                submitter.role = "clinic_owner"
    else:
        clinic.status = "rejected"
        clinic.status_reason = statement.strip()
    audit.record(
        by=by,
        item_type="clinic",
        item_id=clinic.id,
        action="publish" if publish else "reject",
        reason_code=reason_code,
        statement=statement,
        previous_status=previous,
        new_status=clinic.status,
        clinic_id=clinic.id,
        subject_user_id=submitter.id if submitter else None,
        item_submitted_at=clinic.created_at,
    )
    search.mark_dirty(clinic.id)
    if submitter is not None:
        from directory.vocab import REASON_CODES

        outcome = "is now listed" if publish else "was not listed"
        mail.send(
            submitter.email,
            f"Your clinic {clinic.name} {outcome}",
            f"Hello {submitter.display_name},\n\n"
            f"The clinic you registered, {clinic.name} ({clinic.city}), {outcome}.\n\n"
            f"Reason: {REASON_CODES[reason_code]}\nStatement of reasons: {statement.strip()}\n\n"
            "This decision was taken by a moderator, not automatically. If you disagree, "
            "reply to this message or register the clinic again with more evidence.\n",
        )


# ---------------------------------------------------------------- profile


def update_profile(
    clinic: Clinic, *, by: User, data: dict, manual_coordinates: bool = False
) -> list[ClinicChange]:
    """Apply the owner's edits at once; one ClinicChange per changed field.
    Never touches the score. Raises NotAllowed or Invalid."""
    if not is_owner(clinic, by):
        raise NotAllowed("Only the clinic's owner can edit its profile.")
    values = clean_profile(data, current=clinic)
    _locate(values, clinic, manual_coordinates)
    changes = []
    for key in PROFILE_FIELDS:
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
        "name": _text(name, 120, "Name", required=True),
        "years_practice": _int(years, 0, 70, "Years of practice"),
        "training": _text(training, 2000, "Training"),
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


# ---------------------------------------------------------------- dashboard


@dataclass
class ClinicPanel:
    clinic: Clinic
    views_30d: int = 0
    views_by_day: list[tuple[date, int]] = field(default_factory=list)
    score_months: list[ClinicScoreMonth] = field(default_factory=list)
    pending_results: list[ResultCase] = field(default_factory=list)
    published_results: int = 0
    unreplied: list[Review] = field(default_factory=list)
    reports_filed: int = 0
    reports_upheld: int = 0


@dataclass
class Dashboard:
    panels: list[ClinicPanel]
    claims: list[ClinicClaim]
    registered: list[Clinic]


def dashboard(user: User, today: date | None = None) -> Dashboard:
    """What the owner's dashboard shows: their clinics with figures, their claims
    and the clinics they registered that are not yet theirs."""
    today = today or datetime.now(UTC).date()
    since = today - timedelta(days=29)
    clinics = list(
        db.session.execute(
            select(Clinic).where(Clinic.owner_id == user.id).order_by(Clinic.name)
        ).scalars()
    )
    panels = []
    for clinic in clinics:
        panel = ClinicPanel(clinic=clinic)
        days = dict(
            db.session.execute(
                select(ClinicViewDay.day, ClinicViewDay.views).where(
                    ClinicViewDay.clinic_id == clinic.id, ClinicViewDay.day >= since
                )
            ).all()
        )
        panel.views_by_day = [
            (since + timedelta(days=i), days.get(since + timedelta(days=i), 0)) for i in range(30)
        ]
        panel.views_30d = sum(days.values())
        panel.score_months = list(
            db.session.execute(
                select(ClinicScoreMonth)
                .where(ClinicScoreMonth.clinic_id == clinic.id)
                .order_by(ClinicScoreMonth.month.desc())
                .limit(12)
            ).scalars()
        )
        panel.pending_results = list(
            db.session.execute(
                select(ResultCase)
                .where(ResultCase.clinic_id == clinic.id, ResultCase.status == "pending")
                .order_by(ResultCase.created_at.desc())
            ).scalars()
        )
        panel.published_results = clinic.result_count
        panel.unreplied = list(
            db.session.execute(
                select(Review)
                .outerjoin(ClinicReply, ClinicReply.review_id == Review.id)
                .where(
                    Review.clinic_id == clinic.id,
                    Review.status == "published",
                    ClinicReply.id.is_(None),
                )
                .order_by(Review.created_at.desc())
                .limit(5)
            ).scalars()
        )
        panel.reports_filed = db.session.execute(
            select(func.count(Report.id)).where(Report.by_clinic_id == clinic.id)
        ).scalar_one()
        panel.reports_upheld = db.session.execute(
            select(func.count(Report.id)).where(
                Report.by_clinic_id == clinic.id, Report.status == "upheld"
            )
        ).scalar_one()
        panels.append(panel)
    claims = list(
        db.session.execute(
            select(ClinicClaim)
            .where(ClinicClaim.user_id == user.id)
            .order_by(ClinicClaim.created_at.desc())
        ).scalars()
    )
    registered = list(
        db.session.execute(
            select(Clinic)
            .where(Clinic.submitted_by_id == user.id, Clinic.status.in_(("pending", "rejected")))
            .order_by(Clinic.created_at.desc())
        ).scalars()
    )
    return Dashboard(panels=panels, claims=claims, registered=registered)


# ---------------------------------------------------------------- suspension


def find_for_moderation(query: str, limit: int = 50) -> list[Clinic]:
    """Clinics whose name or city contains `query` (any status), plus every suspended one."""
    from sqlalchemy import or_

    stmt = select(Clinic)
    query = (query or "").strip().lower()[:120]
    if query:
        like = "%" + query.replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(
            or_(func.lower(Clinic.name).like(like), func.lower(Clinic.city).like(like))
        )
    else:
        stmt = stmt.where(Clinic.status == "suspended")
    return list(db.session.execute(stmt.order_by(Clinic.name).limit(limit)).scalars())


def set_suspended(
    clinic: Clinic, *, by: User, suspend: bool, reason_code: str, statement: str
) -> None:
    """Suspend a public clinic (hidden everywhere, the owner told why) or reinstate it."""
    from directory.services import audit, mail
    from directory.vocab import PUBLIC_CLINIC_STATUSES, REASON_CODES

    ensure_may_decide(by, clinic, None)
    check_reason(reason_code, statement)
    previous = clinic.status
    if suspend:
        if previous not in PUBLIC_CLINIC_STATUSES:
            raise InvalidState("Only a listed clinic can be suspended.")
        clinic.status = "suspended"
        clinic.status_reason = statement.strip()
    else:
        if previous != "suspended":
            raise InvalidState("This clinic is not suspended.")
        clinic.status = "claimed" if clinic.owner_id else "listed"
        clinic.status_reason = None
    audit.record(
        by=by,
        item_type="clinic",
        item_id=clinic.id,
        action="suspend" if suspend else "reinstate",
        reason_code=reason_code,
        statement=statement,
        previous_status=previous,
        new_status=clinic.status,
        clinic_id=clinic.id,
        subject_user_id=clinic.owner_id,
    )
    search.mark_dirty(clinic.id)
    owner = db.session.get(User, clinic.owner_id) if clinic.owner_id else None
    if owner is not None:
        what = (
            "has been suspended and is hidden from the public"
            if suspend
            else "has been reinstated and is public again"
        )
        mail.send(
            owner.email,
            f"{clinic.name} {what.split(' and ')[0]}",
            f"Hello {owner.display_name},\n\nYour clinic {clinic.name} {what}.\n\n"
            f"Reason: {REASON_CODES[reason_code]}\nStatement of reasons: {statement.strip()}\n\n"
            "This decision was taken by a moderator, not automatically. Your dashboard shows "
            "it too; to contest it, reply to this message with the evidence.\n",
        )
