"""The quality score of DESIGN.md section 4, as pure functions.

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

DIMENSIONS = ("realism", "hairline", "pigment", "dots", "healing", "care")
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


def ranking_key(score: float | None, review_count: int, name: str) -> tuple:
    """Sort key for "by quality": rated first, best first, then more reviews, then name."""
    return (score is None, -(score or 0.0), -review_count, name.lower())
