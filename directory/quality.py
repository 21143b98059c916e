"""The quality score of the score as docs/scoring.md and /how-we-rank explain it, as pure functions.

No Flask, no database: callers hand in plain `ReviewFacts` and get numbers and
an explanation back. Price is not an input to anything here, by design.

    s_r = 0.4 * overall + 0.6 * mean(other dimensions given)   (1 if corrected)
    w_r = trust_r * decay_r
          trust_r = 1.0 if verified else 0.6, times 1.25 with published photos that
                    match no other photo on the site, times each down-weight factor
                    (coordinated 0.2, photo matching another 0.5, new account 0.75)
          decay_r = 0.5 ** (age_in_months / 36)
    Q   = (C * mu + sum(w_r * s_r)) / (C + sum(w_r)),  mu = 3.0, C = 4

The prior mean (3.0) sits low on purpose: the old 3.5 was mid-table, so one
5-star testimonial lifted an unrated clinic into the upper third. A prior alone
cannot bound that on every data set (a fresh verified testimonial with photos
weighs 1.25, as much as several old ones), so the bound is also stated as a
rule: a clinic with fewer than PROVISIONAL_UNDER (3) published testimonials is
"provisional" and its score never exceeds the median score of established
clinics (ESTABLISHED_MIN, 5, testimonials or more) — `provisional_cap`.
Which testimonials are down-weighted is decided by trust.down_weight_reasons
(from moderated facts only); this module only applies the factors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from directory.vocab import DIMENSIONS

PRIOR_MEAN = 3.0
PRIOR_WEIGHT = 4.0
OVERALL_SHARE = 0.4
VERIFIED_TRUST = 1.0
UNVERIFIED_TRUST = 0.6
PHOTO_BONUS = 1.25
HALF_LIFE_MONTHS = 36.0
DAYS_PER_MONTH = 365.25 / 12
HEALED_MONTHS = 12
PROVISIONAL_UNDER = 3
ESTABLISHED_MIN = 5
# Evidence that lowers a testimonial's weight, with its factor (reason -> factor).
COORDINATED = "coordinated"
PHOTO_COPIED = "photo matches another"
NEW_ACCOUNT = "new account"
DOWN_WEIGHT_FACTORS = {COORDINATED: 0.2, PHOTO_COPIED: 0.5, NEW_ACCOUNT: 0.75}

ALL_KEYS = ("overall", *DIMENSIONS)


@dataclass(frozen=True)
class ReviewFacts:
    """What the score needs to know about one published review."""

    overall: int
    written_at: datetime
    ratings: Mapping[str, int] = field(default_factory=dict)  # the other dimensions given
    needed_correction: bool = False
    verified: bool = False
    has_published_photos: bool = False
    last_session: date | None = None
    # Reasons (keys of DOWN_WEIGHT_FACTORS) this testimonial counts less.
    down_weighted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Explanation:
    """A score with everything a page needs to explain it."""

    score: float | None  # None: not yet rated
    published: int
    verified: int
    effective_weight: float
    dimension_means: dict[str, float]
    corrections: int
    healed: int
    prior_mean: float = PRIOR_MEAN
    prior_weight: float = PRIOR_WEIGHT
    # How many testimonials count less, per reason, e.g. {"coordinated": 2}.
    down_weighted: Mapping[str, int] = field(default_factory=dict)
    # Set when a provisional clinic's score was held at the established median.
    capped_at: float | None = None

    @property
    def down_weight_lines(self) -> list[str]:
        """e.g. ["2 testimonials down-weighted: coordinated"]."""
        return [
            f"{n} testimonial{'' if n == 1 else 's'} down-weighted: {reason}"
            for reason, n in sorted(self.down_weighted.items())
            if n
        ]

    @property
    def is_rated(self) -> bool:
        return self.score is not None


def months_between(earlier: datetime | date, later: datetime | date) -> float:
    """Elapsed months (of 30.44 days), never negative."""
    if isinstance(earlier, datetime) and isinstance(later, datetime):
        days = (later - earlier).total_seconds() / 86400
    else:
        e = earlier.date() if isinstance(earlier, datetime) else earlier
        lt = later.date() if isinstance(later, datetime) else later
        days = (lt - e).days
    return max(days, 0.0) / DAYS_PER_MONTH


def review_score(r: ReviewFacts) -> float:
    """s_r: the review's own score on the 1-5 scale."""
    if r.needed_correction:
        return 1.0
    others = [v for k, v in r.ratings.items() if k in DIMENSIONS and v is not None]
    if not others:
        return float(r.overall)
    return OVERALL_SHARE * r.overall + (1 - OVERALL_SHARE) * (sum(others) / len(others))


def review_weight(r: ReviewFacts, now: datetime) -> float:
    """w_r: how much the review counts (trust times age decay). A photo that matches
    another photo on the site never raises the weight: it lowers it."""
    trust = VERIFIED_TRUST if r.verified else UNVERIFIED_TRUST
    if r.has_published_photos and PHOTO_COPIED not in r.down_weighted:
        trust *= PHOTO_BONUS
    for reason in set(r.down_weighted):
        trust *= DOWN_WEIGHT_FACTORS.get(reason, 1.0)
    decay = 0.5 ** (months_between(r.written_at, now) / HALF_LIFE_MONTHS)
    return trust * decay


def bayesian_score(pairs: Iterable[tuple[float, float]]) -> tuple[float | None, float]:
    """Q from (weight, score) pairs; None when there are none. Returns (Q, sum of weights)."""
    total_w = 0.0
    total_ws = 0.0
    n = 0
    for w, s in pairs:
        total_w += w
        total_ws += w * s
        n += 1
    if n == 0:
        return None, 0.0
    return (PRIOR_WEIGHT * PRIOR_MEAN + total_ws) / (PRIOR_WEIGHT + total_w), total_w


def explain(reviews: Iterable[ReviewFacts], now: datetime) -> Explanation:
    """The score of a clinic (or practitioner) from its published reviews."""
    reviews = list(reviews)
    score, weight = bayesian_score((review_weight(r, now), review_score(r)) for r in reviews)
    sums: dict[str, list[int]] = {k: [] for k in ALL_KEYS}
    for r in reviews:
        sums["overall"].append(r.overall)
        for k, v in r.ratings.items():
            if k in DIMENSIONS and v is not None:
                sums[k].append(v)
    means = {k: round(sum(v) / len(v), 2) for k, v in sums.items() if v}
    healed = sum(
        1
        for r in reviews
        if r.last_session is not None and months_between(r.last_session, now) >= HEALED_MONTHS
    )
    return Explanation(
        score=None if score is None else round(score, 3),
        published=len(reviews),
        verified=sum(1 for r in reviews if r.verified),
        effective_weight=round(weight, 3),
        dimension_means=means,
        corrections=sum(1 for r in reviews if r.needed_correction),
        healed=healed,
        down_weighted=_count_reasons(reviews),
    )


def _count_reasons(reviews: list[ReviewFacts]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in reviews:
        for reason in set(r.down_weighted):
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def provisional_cap(exp: Explanation, established_median: float | None) -> Explanation:
    """A clinic with fewer than PROVISIONAL_UNDER published testimonials scores at most
    the median of established clinics: one or two testimonials never lift it above."""
    if (
        exp.score is None
        or established_median is None
        or exp.published >= PROVISIONAL_UNDER
        or exp.score <= established_median
    ):
        return exp
    capped = round(established_median, 3)
    return replace(exp, score=capped, capped_at=capped)


def median(values: Iterable[float]) -> float | None:
    vs = sorted(values)
    if not vs:
        return None
    mid = len(vs) // 2
    return vs[mid] if len(vs) % 2 else (vs[mid - 1] + vs[mid]) / 2


# --- the quality order -------------------------------------------------------------------
#
# "By quality", the site's default order everywhere: rated clinics first, the best
# score first, then more published testimonials, then the name (case-insensitive),
# then the older listing. Price is never part of it. This is the one definition: the
# search index stores score_rank and name_key for its sort (search.documents,
# search.queries.quality_key) and the SQL order finishes with ranking_key
# (services.clinics.best_first); tests/search/test_ranking.py checks the three agree.


def score_rank(score: float | None) -> int:
    """The score in thousandths (its stored precision); -1, below every score, when unrated."""
    return -1 if score is None else int(round(score * 1000))


def name_key(name: str | None) -> str:
    """A name as the quality order compares it: case-folded, its first 80 characters."""
    return (name or "").casefold()[:80]


def ranking_key(
    score: float | None, review_count: int, name: str | None, clinic_id: int = 0
) -> tuple:
    """Sort key for "by quality" (ascending = best first).

    >>> ranking_key(4.2, 3, "b") < ranking_key(4.2, 3, "C") < ranking_key(4.2, 1, "a")
    True
    >>> ranking_key(1.0, 0, "z") < ranking_key(None, 99, "a")
    True
    """
    return (-score_rank(score), -review_count, name_key(name), clinic_id)


# --- like-for-like: "for cases like yours" ----------------------------------------------
#
# A visitor may set their own case (hair-loss stage, skin type, hair colour, goal).
# Each published testimonial whose author gave their case counts towards the
# clinic's case score in proportion to how similar the two cases are:
#
#     sim_r = product, over the fields the visitor set, of the field's similarity
#             (same value 1, a neighbouring value 0.5, otherwise 0; a field the
#             author left empty counts 0: unknown is not similar)
#     L     = (K * Q + sum(sim_r * w_r * s_r)) / (K + sum(sim_r * w_r))
#
# with w_r and s_r the review's weight and score above, Q the clinic's overall
# score (the prior mean when unrated) and K = CASE_SHRINK_WEIGHT. With no similar
# testimonial L equals Q; each similar testimonial moves it by its trust, age and
# similarity, so one matching testimonial cannot outweigh many. Result cases do
# not move L: clinics choose which results to publish and they carry no rating;
# pages count them beside the score. Price is not an input here either.

CASE_SHRINK_WEIGHT = 3.0
NEIGHBOUR_SIMILARITY = 0.5
# Hair colours in order of shade; neighbours count half. Red and grey match only themselves.
HAIR_SHADES = ("black", "dark_brown", "light_brown", "blond")


@dataclass(frozen=True)
class Case:
    """A person's case, in the vocabulary of result cases (vocab.STAGES keys such as
    "norwood-5", Fitzpatrick skin type 1-6, vocab.HAIR_COLOURS and vocab.GOALS keys)."""

    stage: str | None = None
    skin_type: int | None = None
    hair_colour: str | None = None
    goal: str | None = None

    @property
    def is_set(self) -> bool:
        return any(v is not None for v in (self.stage, self.skin_type, self.hair_colour, self.goal))


@dataclass(frozen=True)
class CaseScore:
    """A clinic's like-for-like score for one case, with the evidence behind it."""

    score: float | None  # None: the clinic is not rated at all
    overall: float | None  # the clinic's overall score it is shrunk towards
    similar: int  # testimonials with any similarity
    exact: int  # testimonials of exactly this case (similarity 1)
    weight: float  # sum of similarity x weight


def _rungs_apart(pa: tuple[str, int] | None, pb: tuple[str, int] | None) -> float:
    """Two places on a scale (scale, rung), None for one off every scale: 1 for the
    same place, 0.5 for the next rung on the same scale, else 0."""
    if pa is None or pb is None or pa[0] != pb[0]:
        return 0.0
    d = abs(pa[1] - pb[1])
    return 1.0 if d == 0 else NEIGHBOUR_SIMILARITY if d == 1 else 0.0


def _shade(colour: str) -> tuple[str, int] | None:
    return ("shade", HAIR_SHADES.index(colour)) if colour in HAIR_SHADES else None


def _stage_parts(stage: str) -> tuple[str, int] | None:
    scale, _, n = stage.partition("-")
    return (scale, int(n)) if n.isdigit() else None


def stage_similarity(a: str, b: str) -> float:
    """1 for the same stage, 0.5 for the next stage on the same scale, else 0.

    >>> stage_similarity("norwood-5", "norwood-5"), stage_similarity("norwood-5", "norwood-6")
    (1.0, 0.5)
    >>> stage_similarity("norwood-3", "norwood-5"), stage_similarity("norwood-2", "ludwig-2")
    (0.0, 0.0)
    """
    return 1.0 if a == b else _rungs_apart(_stage_parts(a), _stage_parts(b))


def skin_similarity(a: int, b: int) -> float:
    """Fitzpatrick types: 1 for the same type, 0.5 for a neighbour, else 0.

    >>> skin_similarity(5, 5), skin_similarity(5, 6), skin_similarity(2, 5)
    (1.0, 0.5, 0.0)
    """
    return _rungs_apart(("fitzpatrick", int(a)), ("fitzpatrick", int(b)))


def hair_similarity(a: str, b: str) -> float:
    """1 for the same colour, 0.5 for a neighbouring shade, else 0.

    >>> hair_similarity("black", "dark_brown"), hair_similarity("black", "blond")
    (0.5, 0.0)
    >>> hair_similarity("grey", "grey"), hair_similarity("grey", "blond")
    (1.0, 0.0)
    """
    return 1.0 if a == b else _rungs_apart(_shade(a), _shade(b))


def case_similarity(wanted: Case, theirs: Case) -> float:
    """How alike an author's case is to the visitor's, from 0 to 1.

    Only the fields the visitor set count; an author's empty field counts 0.

    >>> me = Case(stage="norwood-5", skin_type=5)
    >>> case_similarity(me, Case(stage="norwood-5", skin_type=5, hair_colour="black"))
    1.0
    >>> case_similarity(me, Case(stage="norwood-6", skin_type=6, goal="buzz"))
    0.25
    >>> case_similarity(me, Case(stage="norwood-5"))  # skin type not given
    0.0
    >>> case_similarity(Case(), Case(stage="norwood-5"))  # no case set: nothing is similar
    0.0
    """
    if not wanted.is_set:
        return 0.0
    sim = 1.0
    pairs = (
        (wanted.stage, theirs.stage, stage_similarity),
        (wanted.skin_type, theirs.skin_type, skin_similarity),
        (wanted.hair_colour, theirs.hair_colour, hair_similarity),
        (wanted.goal, theirs.goal, lambda a, b: 1.0 if a == b else 0.0),
    )
    for mine, their, fn in pairs:
        if mine is None:
            continue
        if their is None:
            return 0.0
        sim *= fn(mine, their)
        if sim == 0.0:
            return 0.0
    return sim


def case_score(overall: float | None, evidence: Iterable[tuple[float, float, float]]) -> CaseScore:
    """L from the clinic's overall score and (similarity, weight, score) triples.

    Worked example: a clinic rated 4.0 overall has two testimonials from people
    like the visitor, a verified one (w = 1.0) scoring 5.0 with the same case
    (sim 1), and an unverified one (w = 0.6) scoring 3.0 with a neighbouring
    stage (sim 0.5):

        L = (3 x 4.0 + 1 x 1.0 x 5.0 + 0.5 x 0.6 x 3.0) / (3 + 1.0 + 0.3)
          = (12 + 5 + 0.9) / 4.3 = 4.163

    >>> case_score(4.0, [(1.0, 1.0, 5.0), (0.5, 0.6, 3.0)]).score
    4.163

    No similar testimonial: the overall score stands (and is said to).

    >>> r = case_score(4.0, [(0.0, 1.0, 1.0)]); (r.score, r.similar)
    (4.0, 0)

    One matching 5.0 testimonial at a clinic rated 3.8 overall (that testimonial
    and the prior) stays below twelve matching 4.6 testimonials (w = 0.6 each) at
    a clinic rated 4.21 overall:

    >>> case_score(3.8, [(1.0, 1.0, 5.0)]).score
    4.1
    >>> case_score(4.21, [(1.0, 0.6, 4.6)] * 12).score
    4.485
    """
    base = PRIOR_MEAN if overall is None else overall
    total_w = 0.0
    total_ws = 0.0
    similar = exact = 0
    for sim, w, s in evidence:
        if sim <= 0.0:
            continue
        similar += 1
        exact += sim >= 1.0
        total_w += sim * w
        total_ws += sim * w * s
    if overall is None and similar == 0:
        return CaseScore(None, None, 0, 0, 0.0)
    score = (CASE_SHRINK_WEIGHT * base + total_ws) / (CASE_SHRINK_WEIGHT + total_w)
    return CaseScore(round(score, 3), overall, similar, exact, round(total_w, 3))


def case_ranking_key(cs: CaseScore, review_count: int, name: str) -> tuple:
    """Sort key for "best for my case". As unrated clinics come after rated ones, clinics
    with no testimonial from a similar case come after those with at least one (their
    number is just the overall score); then best case score, more similar testimonials,
    more testimonials, name.

    >>> with_evidence = CaseScore(4.1, 4.0, 3, 1, 0.9)
    >>> without = CaseScore(4.6, 4.6, 0, 0, 0.0)
    >>> case_ranking_key(with_evidence, 10, "A") < case_ranking_key(without, 30, "B")
    True
    """
    return (
        cs.score is None,
        cs.similar == 0,
        -(cs.score or 0.0),
        -cs.similar,
        -review_count,
        name_key(name),
    )
