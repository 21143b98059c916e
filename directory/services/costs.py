"""The cost estimate of /cost, from real data on the site: the prices people paid
(published testimonials that give one) and the price ranges clinics list, in the
visitor's country and currency, with how many data points each figure rests on.

When the country has too few data points the estimate widens to the region, then
to the world; prices in other currencies are then converted at approximate
reference rates (APPROX_USD_PER, stated on the page). Informational only:
price ranks nothing and enters no score.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median, quantiles

from sqlalchemy import String, cast, select

from directory.extensions import db
from directory.models import Clinic, Review
from directory.vocab import PUBLIC_CLINIC_STATUSES

MIN_POINTS = 3  # fewer data points than this in a scope: widen to the next one

REGIONS = {
    "Europe": ("GB", "IE", "FR", "DE", "ES", "IT", "NL", "BE", "PT", "SE", "NO", "DK", "FI", "PL",
               "CZ", "AT", "CH", "GR", "RO", "HU", "TR"),
    "North America": ("US", "CA"),
    "Latin America": ("MX", "BR", "AR", "CL", "CO", "PE"),
    "Oceania": ("AU", "NZ"),
    "Asia": ("JP", "KR", "SG", "TH", "IN", "PH", "MY", "ID", "VN", "CN", "HK", "TW"),
    "Middle East and Africa": ("AE", "SA", "QA", "IL", "EG", "ZA", "NG", "KE", "MA", "GH"),
}  # fmt: skip
REGION_OF = {c: region for region, codes in REGIONS.items() for c in codes}

# Approximate value of one unit in US dollars: only to convert data points from
# other currencies when an estimate has to widen beyond the visitor's country.
APPROX_USD_PER = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "CAD": 0.73,
    "AUD": 0.66,
    "NZD": 0.6,
    "JPY": 0.0067,
    "BRL": 0.19,
    "MXN": 0.055,
    "ZAR": 0.054,
    "INR": 0.012,
    "TRY": 0.03,
    "AED": 0.27,
    "SGD": 0.74,
    "CHF": 1.13,
    "SEK": 0.095,
    "PLN": 0.25,
    "THB": 0.028,
    "KRW": 0.00073,
    "ARS": 0.001,
    "EGP": 0.02,
    "NGN": 0.00065,
    "KES": 0.0077,
    "PHP": 0.017,
}

# Treatments whose price is not a course of SMP: they get their own guidance.
REPAIR_SERVICES = ("correction", "removal")


@dataclass(frozen=True)
class Figures:
    """What the data says in one scope: n data points, their median and quartiles."""

    n: int
    median: int | None = None
    low: int | None = None  # 25th percentile (or the lowest with few points)
    high: int | None = None  # 75th percentile (or the highest)
    converted: int = 0  # data points converted from another currency


@dataclass(frozen=True)
class CostEstimate:
    currency: str
    scope: str  # "country", "region" or "world"
    scope_label: str
    paid: Figures  # prices paid in published testimonials
    listed: Figures  # midpoints of clinics' listed ranges
    listed_low: int | None  # median of the lower ends of listed ranges
    listed_high: int | None
    stage_matched: bool  # paid prices restricted to similar stages


def convert(amount: float, from_currency: str, to_currency: str) -> float | None:
    if from_currency == to_currency:
        return float(amount)
    a, b = APPROX_USD_PER.get(from_currency), APPROX_USD_PER.get(to_currency)
    if a is None or b is None:
        return None
    return amount * a / b


def _round(v: float) -> int:
    """Round a price to two significant figures (prices are estimates, not quotes)."""
    if v <= 0:
        return 0
    magnitude = 10 ** max(0, len(str(int(v))) - 2)
    return int(round(v / magnitude) * magnitude)


def figures(values: list[float], converted: int = 0) -> Figures:
    if not values:
        return Figures(0)
    values = sorted(values)
    if len(values) >= 4:
        q1, _, q3 = quantiles(values, n=4)
    else:
        q1, q3 = values[0], values[-1]
    return Figures(len(values), _round(median(values)), _round(q1), _round(q3), converted)


def _stage_near(stage: str | None, other: str | None) -> bool:
    if stage is None or other is None:
        return False
    a, _, na = stage.partition("-")
    b, _, nb = other.partition("-")
    return a == b and na.isdigit() and nb.isdigit() and abs(int(na) - int(nb)) <= 1


def country_currency(country: str) -> str | None:
    """The currency most clinics in the country list prices in."""
    rows = db.session.execute(
        select(Clinic.currency).where(
            Clinic.country == country, Clinic.status.in_(PUBLIC_CLINIC_STATUSES)
        )
    ).scalars()
    counts: dict[str, int] = {}
    for cur in rows:
        if cur:
            counts[cur] = counts.get(cur, 0) + 1
    return max(sorted(counts), key=lambda c: counts[c]) if counts else None


def _paid_rows(service: str, countries: tuple[str, ...] | None):
    stmt = (
        select(Review.price_paid, Review.price_currency, Review.stage)
        .join(Clinic, Clinic.id == Review.clinic_id)
        .where(
            Review.status == "published",
            Review.hidden_pending_report.is_(False),
            Review.price_paid.is_not(None),
            Review.price_paid > 0,
            Review.treatment_type == service,
            Clinic.status.in_(PUBLIC_CLINIC_STATUSES),
        )
    )
    if countries is not None:
        stmt = stmt.where(Clinic.country.in_(countries))
    return db.session.execute(stmt).all()


def _listed_rows(service: str, countries: tuple[str, ...] | None):
    stmt = select(Clinic.price_min, Clinic.price_max, Clinic.currency).where(
        Clinic.status.in_(PUBLIC_CLINIC_STATUSES),
        Clinic.price_min.is_not(None),
        Clinic.price_max.is_not(None),
        cast(Clinic.services, String).like(f'%"{service}"%'),
    )
    if countries is not None:
        stmt = stmt.where(Clinic.country.in_(countries))
    return db.session.execute(stmt).all()


def _in_currency(amount, cur, currency) -> tuple[float | None, bool]:
    value = convert(amount, cur or currency, currency)
    return value, (cur or currency) != currency


def estimate(stage: str | None, service: str, country: str | None, currency: str) -> CostEstimate:
    """The estimate for a stage and a treatment in the visitor's country and currency,
    widening to the region and then the world while data points are fewer than
    MIN_POINTS. Paid prices are restricted to similar stages (same scale, at most one
    step apart) when there are enough of them."""
    scopes: list[tuple[str, str, tuple[str, ...] | None]] = []
    if country:
        scopes.append(("country", country, (country,)))
        region = REGION_OF.get(country)
        if region:
            scopes.append(("region", region, REGIONS[region]))
    scopes.append(("world", "all countries", None))

    chosen = None
    for scope, label, countries in scopes:
        paid_all, conv_all, paid_stage, conv_stage = [], 0, [], 0
        for amount, cur, review_stage in _paid_rows(service, countries):
            value, was_converted = _in_currency(amount, cur, currency)
            if value is None:
                continue
            paid_all.append(value)
            conv_all += was_converted
            if _stage_near(stage, review_stage):
                paid_stage.append(value)
                conv_stage += was_converted
        stage_matched = len(paid_stage) >= MIN_POINTS
        paid = figures(paid_stage, conv_stage) if stage_matched else figures(paid_all, conv_all)
        lows, highs, mids, conv_listed = [], [], [], 0
        for lo, hi, cur in _listed_rows(service, countries):
            lo_v, was_converted = _in_currency(lo, cur, currency)
            hi_v, _ = _in_currency(hi, cur, currency)
            if lo_v is None or hi_v is None:
                continue
            lows.append(lo_v)
            highs.append(hi_v)
            mids.append((lo_v + hi_v) / 2)
            conv_listed += was_converted
        listed = figures(mids, conv_listed)
        chosen = CostEstimate(
            currency=currency,
            scope=scope,
            scope_label=label,
            paid=paid,
            listed=listed,
            listed_low=_round(median(lows)) if lows else None,
            listed_high=_round(median(highs)) if highs else None,
            stage_matched=stage_matched,
        )
        if paid.n >= MIN_POINTS or listed.n >= MIN_POINTS:
            break
    return chosen


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
