"""What the public pages show, read with Core statements into plain records.

The clinic, testimonials, home and search pages show many rows and change
none. Loading them as ORM entities (identity map, instrumented attributes,
relationship loaders, a statement per collection) cost most of a page's time;
these readers select the columns a page shows, join what it shows beside them
(author, practitioner, reply, report counts) and return `Record`s: read-only
objects with the models' attribute names (templates read `clinic.name`,
`review.author.display_name`, `review[key]`), so the templates, the JSON-LD
and the score helpers work on either. Records belong to no session: they may
be kept between requests (pagecache.memo).

Statements are skipped when the rows they would read cannot exist: the
testimonials say whether they have follow-ups or photos, the clinic whether it
has published results.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import aliased

from directory.database import read_statement
from directory.extensions import db
from directory.models import (
    Clinic,
    ClinicReply,
    FollowUp,
    Photo,
    Practitioner,
    Report,
    ResultCase,
    Review,
    User,
)
from directory.models.clinics import ClinicFacts
from directory.services.paging import Pager
from directory.vocab import PUBLIC_CLINIC_STATUSES


class Record:
    """A row as an object: attribute and item access, nothing loaded behind it."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __getitem__(self, key: str):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'id', '?')}>"


class ClinicRecord(ClinicFacts, Record):
    def __getattr__(self, name: str):
        # Only a visitor's own case needs the (larger) like-for-like evidence: read
        # when first asked for, unless the reader loaded it with the clinic.
        if name != "case_evidence" or "id" not in self.__dict__:
            raise AttributeError(name)
        value = db.session.execute(select(_C.c.case_evidence).where(_C.c.id == self.id)).scalar()
        self.case_evidence = value
        return value


class ReviewRecord(Record):
    @property
    def is_public(self) -> bool:
        return self.status == "published" and not self.hidden_pending_report

    @property
    def has_case(self) -> bool:
        return any(v is not None for v in (self.stage, self.skin_type, self.hair_colour, self.goal))


class ResultRecord(Record):
    @property
    def age_label(self) -> str:
        months = self.months_since_last_session
        return "fresh" if months < 1 else "healed" if months < 12 else "long_term"


Paged = Pager  # a page of records, as every pager in the site


@dataclass(frozen=True)
class Latest:
    """The newest published testimonials and how many there are in all."""

    items: list
    total: int


def _rows(stmt, params: dict | None = None) -> list[dict]:
    """The statement's rows, read on a pooled raw connection without the ORM
    session's per-statement work (database.read_statement): what is committed."""
    return read_statement(stmt, params or {})


# --------------------------------------------------------------------------
# Clinics

_C = Clinic.__table__
_CLINIC_COLUMNS = [c for c in _C.c if c.key != "case_evidence"]
_P = Practitioner.__table__
_PRACTITIONER = ("id", "name", "years_practice", "training", "retired_at", "quality_score")
_PRACTITIONER_COLUMNS = [
    *(_P.c[k].label(f"p_{k}") for k in _PRACTITIONER),
    _P.c.review_count.label("p_review_count"),
]
_PUBLIC = _C.c.status.in_(PUBLIC_CLINIC_STATUSES)


def _clinic_statement(with_evidence: bool):
    reports = Report.__table__
    by_clinic = reports.c.by_clinic_id == _C.c.id
    filed = select(func.count()).where(by_clinic).scalar_subquery()
    upheld = select(func.count()).where(by_clinic, reports.c.status == "upheld").scalar_subquery()
    results = ResultCase.__table__
    has_results = exists().where(results.c.clinic_id == _C.c.id, results.c.status == "published")
    columns = [*_CLINIC_COLUMNS, *([_C.c.case_evidence] if with_evidence else [])]
    return (
        select(
            *columns,
            filed.label("reports_filed"),
            upheld.label("reports_upheld"),
            has_results.label("has_results"),
            *_PRACTITIONER_COLUMNS,
        )
        .outerjoin(_P, _P.c.clinic_id == _C.c.id)
        .where(_C.c.slug == bindparam("slug"), _PUBLIC)
        .order_by(_P.c.name, _P.c.id)
    )


_CLINIC_PAGE = {False: _clinic_statement(False), True: _clinic_statement(True)}
_CLINIC_KEYS = [c.key for c in _CLINIC_COLUMNS]


def public_clinic(slug: str, with_evidence: bool = False) -> ClinicRecord | None:
    """The clinic of the public pages, or None when the public may not see it: its
    columns, active and retired practitioners (by name), report counts and whether
    it has published results, in one statement. `with_evidence`: also the cached
    like-for-like evidence (else read when first used)."""
    if len(slug) > 120:
        return None
    rows = _rows(_CLINIC_PAGE[with_evidence], {"slug": slug})
    if not rows:
        return None
    first = rows[0]
    fields = {k: first[k] for k in _CLINIC_KEYS}
    if with_evidence:
        fields["case_evidence"] = first["case_evidence"]
    practitioners = [
        Record(**{k: row[f"p_{k}"] for k in (*_PRACTITIONER, "review_count")})
        for row in rows
        if row["p_id"] is not None
    ]
    return ClinicRecord(
        **fields,
        practitioners=practitioners,
        report_counts=(int(first["reports_filed"] or 0), int(first["reports_upheld"] or 0)),
        has_results=bool(first["has_results"]),
    )


# What a clinic card (and its search snippet) shows; `full` adds every other column
# (the API's summaries), `with_evidence` the like-for-like evidence (case scores).
_CARD = (
    "id",
    "slug",
    "name",
    "description",
    "city",
    "region",
    "country",
    "services",
    "price_min",
    "price_max",
    "currency",
    "status",
    "quality_score",
    "review_count",
    "verified_count",
    "correction_count",
)
_BY_IDS = _C.c.id.in_(bindparam("ids", expanding=True))
_CARDS = {
    (full, evidence): select(
        *(_CLINIC_COLUMNS if full else [_C.c[k] for k in _CARD]),
        *([_C.c.case_evidence] if evidence else []),
    ).where(_BY_IDS)
    for full in (False, True)
    for evidence in (False, True)
}


def clinic_cards(
    ids: list[int], with_evidence: bool = False, full: bool = False
) -> list[ClinicRecord]:
    """What a card shows of each public clinic (`full`: every column), in the given
    order, dropping any that are not (or no longer) public. `with_evidence`: with
    the like-for-like evidence (case scores of many clinics)."""
    if not ids:
        return []
    rows = _rows(_CARDS[full, with_evidence], {"ids": [int(i) for i in ids]})
    by_id = {}
    for row in rows:
        if row["status"] in PUBLIC_CLINIC_STATUSES:
            by_id[row["id"]] = ClinicRecord(**row)
    return [by_id[i] for i in ids if i in by_id]


# --------------------------------------------------------------------------
# Testimonials

_R = Review.__table__
_U = User.__table__
_RP = ClinicReply.__table__
_F = FollowUp.__table__
_PH = Photo.__table__
_REVIEW = (
    "id",
    "clinic_id",
    "author_id",
    *Review.CONTENT_FIELDS,
    "status",
    "verified_at",
    "hidden_pending_report",
    "created_at",
    "published_at",
    "stage",
    "skin_type",
    "hair_colour",
    "goal",
)
_PUBLIC_REVIEW = and_(
    _R.c.clinic_id == bindparam("clinic_id"),
    _R.c.status == "published",
    _R.c.hidden_pending_report.is_(False),
)
_LATEST = (
    select(
        *(_R.c[k] for k in _REVIEW),
        _U.c.display_name.label("author_name"),
        _P.c.name.label("practitioner_name"),
        _RP.c.id.label("reply_id"),
        _RP.c.status.label("reply_status"),
        _RP.c.text.label("reply_text"),
        _RP.c.updated_at.label("reply_updated_at"),
        exists().where(_F.c.review_id == _R.c.id).label("has_followups"),
        exists().where(_PH.c.review_id == _R.c.id).label("has_photos"),
    )
    .select_from(_R)
    .outerjoin(_U, _U.c.id == _R.c.author_id)
    .outerjoin(_P, _P.c.id == _R.c.practitioner_id)
    .outerjoin(_RP, _RP.c.review_id == _R.c.id)
    .where(_PUBLIC_REVIEW)
    .order_by(_R.c.created_at.desc(), _R.c.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
# A page of the testimonials list also says how many there are in all.
_REVIEWS_PAGE = _LATEST.add_columns(func.count().over().label("total"))
_FOLLOWUPS = (
    select(
        _F.c.id,
        _F.c.review_id,
        _F.c.healing,
        _F.c.needed_correction,
        _F.c.text,
        _F.c.status,
        _F.c.created_at,
        _F.c.published_at,
    )
    .where(_F.c.review_id.in_(bindparam("ids", expanding=True)))
    .order_by(_F.c.created_at, _F.c.id)
)
_PHOTO = ("id", "review_id", "followup_id", "clinic_id", "kind", "width", "height", "status")
_PHOTOS = (
    select(*(_PH.c[k] for k in _PHOTO))
    .where(
        or_(
            _PH.c.review_id.in_(bindparam("ids", expanding=True)),
            _PH.c.followup_id.in_(
                select(_F.c.id).where(_F.c.review_id.in_(bindparam("ids", expanding=True)))
            ),
        )
    )
    .order_by(_PH.c.id)
)


def _review_records(rows, clinic) -> list[ReviewRecord]:
    reviews = []
    for row in rows:
        r = ReviewRecord(**{k: row[k] for k in _REVIEW})
        r.clinic = clinic
        r.author = (
            Record(id=r.author_id, display_name=row["author_name"])
            if r.author_id is not None and row["author_name"] is not None
            else None
        )
        r.practitioner = (
            Record(id=r.practitioner_id, name=row["practitioner_name"])
            if row["practitioner_name"] is not None
            else None
        )
        r.reply = (
            Record(
                id=row["reply_id"],
                review_id=r.id,
                status=row["reply_status"],
                text=row["reply_text"],
                updated_at=row["reply_updated_at"],
            )
            if row["reply_id"] is not None
            else None
        )
        r.followups, r.photos = [], []
        r.has_followups, r.has_photos = bool(row["has_followups"]), bool(row["has_photos"])
        reviews.append(r)
    with_followups = [r.id for r in reviews if r.has_followups]
    with_photos = [r.id for r in reviews if r.has_photos or r.has_followups]
    by_id = {r.id: r for r in reviews}
    followups: dict[int, Record] = {}
    if with_followups:
        for row in _rows(_FOLLOWUPS, {"ids": with_followups}):
            fu = Record(**row, photos=[])
            followups[fu.id] = fu
            by_id[fu.review_id].followups.append(fu)
    if with_photos:
        for row in _rows(_PHOTOS, {"ids": with_photos}):
            photo = Record(**row)
            if photo.review_id in by_id:
                by_id[photo.review_id].photos.append(photo)
            if photo.followup_id in followups:
                followups[photo.followup_id].photos.append(photo)
    return reviews


def latest_reviews(clinic: ClinicRecord, n: int) -> Latest:
    """The clinic page's first testimonials; the total comes from the cached count."""
    rows = _rows(_LATEST, {"clinic_id": clinic.id, "limit": n, "offset": 0})
    return Latest(_review_records(rows, clinic), clinic.review_count)


def public_reviews(clinic: ClinicRecord, page: int, per_page: int) -> Paged:
    """A page of the clinic's public testimonials, newest first, with how many
    there are (0 past the last page: nothing to count there)."""
    params = {"clinic_id": clinic.id, "limit": per_page, "offset": (page - 1) * per_page}
    rows = _rows(_REVIEWS_PAGE, params)
    total = rows[0]["total"] if rows else 0
    return Paged(_review_records(rows, clinic), total, page, per_page)


# --------------------------------------------------------------------------
# Results

_RC = ResultCase.__table__
_RESULT = (
    "id",
    "clinic_id",
    "practitioner_id",
    "title",
    "notes",
    "treatment_type",
    "sessions",
    "months_since_last_session",
    "stage",
    "skin_type",
    "hair_colour",
    "goal",
    "status",
    "created_at",
    "published_at",
)
_PHOTO_OF_RESULT = ("id", "status", "width", "height")
_RESULT_PHOTOS = ("before", "after", "healed")


def _results_statement():
    photos = {name: aliased(_PH, name=f"{name}_photo") for name in _RESULT_PHOTOS}
    columns = [_RC.c[k] for k in _RESULT]
    for name, table in photos.items():
        columns += [table.c[k].label(f"{name}_{k}") for k in _PHOTO_OF_RESULT]
    stmt = select(*columns, _P.c.name.label("practitioner_name")).select_from(_RC)
    for name, table in photos.items():
        stmt = stmt.outerjoin(table, table.c.id == _RC.c[f"{name}_photo_id"])
    return (
        stmt.outerjoin(_P, _P.c.id == _RC.c.practitioner_id)
        .where(_RC.c.clinic_id == bindparam("clinic_id"), _RC.c.status == "published")
        .order_by(_RC.c.published_at.desc(), _RC.c.id.desc())
        .limit(bindparam("limit"))
    )


_RESULTS = _results_statement()


def latest_results(clinic: ClinicRecord, limit: int) -> list[ResultRecord]:
    """The clinic's newest published result cases with their photos."""
    if not clinic.has_results:
        return []
    out = []
    for row in _rows(_RESULTS, {"clinic_id": clinic.id, "limit": limit}):
        case = ResultRecord(**{k: row[k] for k in _RESULT})
        for name in _RESULT_PHOTOS:
            photo = None
            if row[f"{name}_id"] is not None:
                photo = Record(**{k: row[f"{name}_{k}"] for k in _PHOTO_OF_RESULT})
            setattr(case, f"{name}_photo", photo)
        case.practitioner = (
            Record(id=case.practitioner_id, name=row["practitioner_name"])
            if row["practitioner_name"] is not None
            else None
        )
        out.append(case)
    return out


__all__ = [
    "ClinicRecord",
    "Latest",
    "Paged",
    "Record",
    "ReviewRecord",
    "clinic_cards",
    "latest_results",
    "latest_reviews",
    "public_clinic",
    "public_reviews",
]
