"""The quality score of DESIGN.md section 4, as pure functions.

No Flask, no database: callers hand in plain `ReviewFacts` and get numbers and
an explanation back. Price is not an input to anything here, by design.

    s_r = 0.4 * overall + 0.6 * mean(other dimensions given)   (1 if corrected)
    w_r = trust_r * decay_r
          trust_r = 1.0 if verified else 0.6, times 1.25 with published photos
          decay_r = 0.5 ** (age_in_months / 36)
    Q   = (C * mu + sum(w_r * s_r)) / (C + sum(w_r)),  mu = 3.5, C = 4
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

PRIOR_MEAN = 3.5
PRIOR_WEIGHT = 4.0
OVERALL_SHARE = 0.4
VERIFIED_TRUST = 1.0
UNVERIFIED_TRUST = 0.6
PHOTO_BONUS = 1.25
HALF_LIFE_MONTHS = 36.0
DAYS_PER_MONTH = 365.25 / 12
HEALED_MONTHS = 12

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
    """w_r: how much the review counts (trust times age decay)."""
    trust = VERIFIED_TRUST if r.verified else UNVERIFIED_TRUST
    if r.has_published_photos:
        trust *= PHOTO_BONUS
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
    )


def ranking_key(score: float | None, review_count: int, name: str) -> tuple:
    """Sort key for "by quality": rated first, best first, then more reviews, then name."""
    return (score is None, -(score or 0.0), -review_count, name.lower())
