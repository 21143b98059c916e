"""The cost estimate of /cost: a typical range by extent of hair loss, plus what
clinics in a country actually list. Informational only: price ranks nothing."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from sqlalchemy import select

from directory.extensions import db
from directory.models import Clinic
from directory.vocab import PUBLIC_CLINIC_STATUSES

# DESIGN.md section 1: USD 1,000-3,500, rising with the extent of hair loss.
# Extent 0..1 per stage; the estimate interpolates within the typical range.
EXTENT = {
    "norwood-1": 0.05,
    "norwood-2": 0.15,
    "norwood-3": 0.3,
    "norwood-4": 0.45,
    "norwood-5": 0.6,
    "norwood-6": 0.8,
    "norwood-7": 1.0,
    "ludwig-1": 0.25,
    "ludwig-2": 0.45,
    "ludwig-3": 0.7,
}
SERVICE_FACTOR = {
    "full_scalp": 1.0,
    "hairline": 0.6,
    "density": 0.9,
    "scar": 0.5,
    "correction": 1.3,
    "removal": 1.5,
}
LOW_USD, HIGH_USD = 1000, 3500
TOUCH_UP_YEARS = 2
TOUCH_UP_SHARE = 0.2  # a light touch-up costs roughly a fifth of the course


@dataclass(frozen=True)
class Estimate:
    low_usd: int
    high_usd: int
    sessions: str
    touch_up_usd: int
    ten_year_usd: tuple[int, int]


def estimate(stage: str, service: str) -> Estimate:
    """Typical price of a course for this stage and service, in USD (pure)."""
    extent = EXTENT[stage]
    factor = SERVICE_FACTOR[service]
    centre = LOW_USD + (HIGH_USD - LOW_USD) * extent
    low = max(400, round(centre * factor * 0.8, -2))
    high = round(centre * factor * 1.25, -2)
    sessions = "2–3" if extent < 0.3 or service in ("hairline", "scar") else "3–5"
    touch = round((low + high) / 2 * TOUCH_UP_SHARE, -1)
    touch_ups = 10 // TOUCH_UP_YEARS - 1
    return Estimate(
        int(low),
        int(high),
        sessions,
        int(touch),
        (int(low + touch * touch_ups), int(high + touch * touch_ups)),
    )


@dataclass(frozen=True)
class Listed:
    country: str
    currency: str
    clinics: int
    median_low: int
    median_high: int


def listed_prices(country: str) -> list[Listed]:
    """Median listed price range of public clinics in a country, per currency."""
    rows = db.session.execute(
        select(Clinic.currency, Clinic.price_min, Clinic.price_max).where(
            Clinic.country == country,
            Clinic.status.in_(PUBLIC_CLINIC_STATUSES),
            Clinic.price_min.is_not(None),
            Clinic.price_max.is_not(None),
        )
    ).all()
    by_currency: dict[str, list[tuple[int, int]]] = {}
    for cur, lo, hi in rows:
        by_currency.setdefault(cur, []).append((lo, hi))
    return [
        Listed(country, cur, len(v), int(median(lo for lo, _ in v)), int(median(hi for _, hi in v)))
        for cur, v in sorted(by_currency.items(), key=lambda kv: -len(kv[1]))
    ]
