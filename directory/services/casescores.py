"""Like-for-like scores: how good a clinic is for someone with the visitor's case.

The formula is quality.case_score (pure). Its inputs are cached on each clinic
by services.scores.recompute_clinic (`Clinic.case_evidence`: weight, score and
case of each published testimonial whose author gave their case), so scoring a
page of clinics for a case reads no testimonial. A clinic whose evidence was
never computed (a database migrated before the column existed) is computed from
its testimonials on the fly.

The visitor's case lives in the session under "case" once they set it; it is
never required, and no page needs it to work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import select

from directory import quality
from directory.extensions import db
from directory.models import Clinic, ResultCase
from directory.services import Invalid, scores
from directory.vocab import GOALS, HAIR_COLOURS, PUBLIC_CLINIC_STATUSES, SKIN_TYPES, STAGES

CASE_FIELDS = ("stage", "skin_type", "hair_colour", "goal")
SESSION_KEY = "case"


def parse_case(values: Mapping) -> quality.Case:
    """A Case from form or session values ("" or None: not set). Raises Invalid."""
    stage = values.get("stage") or None
    if stage is not None and stage not in STAGES:
        raise Invalid(f"Unknown hair-loss stage “{str(stage)[:40]}”.")
    skin = values.get("skin_type")
    if skin in (None, ""):
        skin = None
    else:
        try:
            skin = int(skin)
        except (TypeError, ValueError):
            raise Invalid("The skin type must be a Fitzpatrick type from 1 to 6.") from None
        if skin not in SKIN_TYPES:
            raise Invalid("The skin type must be a Fitzpatrick type from 1 to 6.")
    hair = values.get("hair_colour") or None
    if hair is not None and hair not in HAIR_COLOURS:
        raise Invalid(f"Unknown hair colour “{str(hair)[:40]}”.")
    goal = values.get("goal") or None
    if goal is not None and goal not in GOALS:
        raise Invalid(f"Unknown goal “{str(goal)[:40]}”.")
    return quality.Case(stage=stage, skin_type=skin, hair_colour=hair, goal=goal)


def to_session(case: quality.Case) -> dict | None:
    if not case.is_set:
        return None
    return {k: getattr(case, k) for k in CASE_FIELDS if getattr(case, k) is not None}


def from_session(data) -> quality.Case | None:
    """The case kept in the session, or None (a damaged value is ignored)."""
    if not isinstance(data, dict):
        return None
    try:
        case = parse_case(data)
    except Invalid:
        return None
    return case if case.is_set else None


def describe(case: quality.Case) -> str:
    """The case in words: "Norwood V, Fitzpatrick V, black hair, buzz-cut look"."""
    parts = []
    if case.stage:
        parts.append(STAGES[case.stage])
    if case.skin_type:
        parts.append(SKIN_TYPES[case.skin_type])
    if case.hair_colour:
        parts.append(HAIR_COLOURS[case.hair_colour].lower() + " hair")
    if case.goal:
        parts.append(GOALS[case.goal].lower())
    return ", ".join(parts)


def _evidence_rows(clinic: Clinic) -> list:
    if clinic.case_evidence is not None:
        return clinic.case_evidence
    reviews = list(db.session.execute(scores.public_reviews_query(clinic.id)).scalars())
    return scores.case_evidence(reviews, datetime.now(UTC))


def score_from_evidence(
    overall: float | None, rows: Iterable[list], case: quality.Case, memo: dict | None = None
) -> quality.CaseScore:
    """The case score from cached evidence rows (weight, score, stage, skin, hair, goal).
    `memo` keeps similarities between calls (few distinct author cases exist)."""
    memo = {} if memo is None else memo
    triples = []
    for w, s, *theirs in rows:
        key = tuple(theirs)
        sim = memo.get(key)
        if sim is None:
            sim = memo[key] = quality.case_similarity(case, quality.Case(*theirs))
        triples.append((sim, w, s))
    return quality.case_score(overall, triples)


def score_for(clinic: Clinic, case: quality.Case, memo: dict | None = None) -> quality.CaseScore:
    return score_from_evidence(clinic.quality_score, _evidence_rows(clinic), case, memo)


def scores_for(
    clinics: Iterable[Clinic], case: quality.Case | None
) -> dict[int, quality.CaseScore]:
    """Case scores of these clinics by id; empty when no case is set."""
    if case is None or not case.is_set:
        return {}
    memo: dict = {}
    return {c.id: score_for(c, case, memo) for c in clinics}


def order_ids(ids: list[int], case: quality.Case) -> list[int]:
    """The public clinics among `ids`, best for the case first (quality.case_ranking_key).
    Reads five columns per clinic (score, count, name and the cached evidence)."""
    if not ids:
        return []
    rows = db.session.execute(
        select(
            Clinic.id,
            Clinic.quality_score,
            Clinic.review_count,
            Clinic.name,
            Clinic.case_evidence,
        ).where(Clinic.id.in_(ids), Clinic.status.in_(PUBLIC_CLINIC_STATUSES))
    ).all()
    memo: dict = {}
    keyed = []
    for cid, score, count, name, evidence in rows:
        if evidence is None:  # never computed (migrated database): from its testimonials
            cs = score_for(db.session.get(Clinic, cid), case, memo)
        else:
            cs = score_from_evidence(score, evidence, case, memo)
        keyed.append((quality.case_ranking_key(cs, count, name), cid))
    keyed.sort()
    return [cid for _, cid in keyed]


def similar_result_counts(clinic_ids: Iterable[int], case: quality.Case | None) -> dict[int, int]:
    """How many published result cases of each clinic are of a case similar to the
    visitor's (shown beside the like-for-like score; they do not move it)."""
    ids = list(clinic_ids)
    if case is None or not case.is_set or not ids:
        return {}
    rows = db.session.execute(
        select(
            ResultCase.clinic_id,
            ResultCase.stage,
            ResultCase.skin_type,
            ResultCase.hair_colour,
            ResultCase.goal,
        ).where(ResultCase.clinic_id.in_(ids), ResultCase.status == "published")
    ).all()
    counts: dict[int, int] = {}
    memo: dict = {}
    for clinic_id, *theirs in rows:
        key = tuple(theirs)
        if key not in memo:
            memo[key] = quality.case_similarity(case, quality.Case(*theirs))
        if memo[key] > 0:
            counts[clinic_id] = counts.get(clinic_id, 0) + 1
    return counts


def top(case: quality.Case, limit: int = 5) -> list[tuple[Clinic, quality.CaseScore]]:
    """The best public clinics for a case (used by the CLI and the report)."""
    clinics = list(
        db.session.execute(
            select(Clinic).where(Clinic.status.in_(PUBLIC_CLINIC_STATUSES))
        ).scalars()
    )
    memo: dict = {}
    ranked = sorted(
        ((c, score_for(c, case, memo)) for c in clinics),
        key=lambda pair: quality.case_ranking_key(pair[1], pair[0].review_count, pair[0].name),
    )
    return ranked[:limit]
