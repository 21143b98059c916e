"""Building a clinic's search document from the current database rows."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory import quality, vocab
from directory.models import Clinic, Practitioner, Review

from .gazetteer import fold
from .schema import NO_COORD

# Maximum-price filter: the clinic's starting price, in approximate US dollars,
# falls in one of these buckets. Each document carries a "le<N>" term for
# every threshold it meets, so a filter is one term (docs/performance.md, Whoosh note 5).
PRICE_BUCKETS = (1000, 1500, 2000, 2500, 3000, 4000, 5000)
# Approximate US dollars per unit of each currency (for the price filter only;
# prices are always shown in the clinic's own currency).
USD_PER_UNIT = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "CAD": 0.73,
    "AUD": 0.66,
    "JPY": 0.0067,
    "BRL": 0.2,
    "MXN": 0.058,
    "ZAR": 0.054,
    "INR": 0.012,
    "TRY": 0.031,
    "AED": 0.27,
    "SGD": 0.74,
    "NZD": 0.6,
    "CHF": 1.12,
    "SEK": 0.095,
    "PLN": 0.25,
    "THB": 0.028,
    "KRW": 0.00075,
    "ARS": 0.0011,
    "EGP": 0.021,
    "NGN": 0.00065,
    "KES": 0.0077,
    "PHP": 0.018,
}
# Geo cells (degrees) at which coordinates are indexed as keywords.
GEO_LEVELS = (0.25, 1.0, 4.0, 16.0)

# Testimonial digest caps (docs/performance.md, Whoosh note 7): the newest reviews' first words.
DIGEST_REVIEWS = 8
DIGEST_CHARS = 320
DIGEST_WORDS = 160

SERVICE_BITS = {key: 1 << i for i, key in enumerate(vocab.SERVICES)}


def usd(amount: int | None, currency: str | None) -> float | None:
    if amount is None:
        return None
    return amount * USD_PER_UNIT.get((currency or "USD").upper(), 1.0)


def price_terms(clinic: Clinic) -> list[str]:
    start = usd(
        clinic.price_min if clinic.price_min is not None else clinic.price_max, clinic.currency
    )
    if start is None:
        return []
    return [f"le{b}" for b in PRICE_BUCKETS if start <= b]


def geo_cell(level: float, lat: float, lon: float) -> str:
    return f"g{level:g}_{math.floor(lat / level)}_{math.floor(lon / level)}"


def geo_terms(lat: float | None, lon: float | None) -> list[str]:
    if lat is None or lon is None:
        return []
    return [geo_cell(level, lat, lon) for level in GEO_LEVELS]


@dataclass
class Parts:
    """What a document is built from, besides the clinic row itself."""

    practitioners: list[str] = field(default_factory=list)
    testimonials: list[str] = field(default_factory=list)


def digest(texts: Iterable[str]) -> str:
    words: list[str] = []
    for text in texts:
        words.extend(re.findall(r"\w+", (text or "")[:DIGEST_CHARS]))
        if len(words) >= DIGEST_WORDS:
            break
    return " ".join(words[:DIGEST_WORDS])


def word_pairs(text: str) -> str:
    """Each two neighbouring words joined: "Elif Hassan Lab" -> "elifhassan hassanlab"."""
    words = fold(text or "").replace("_", " ").split()[:12]
    return " ".join(a + b for a, b in zip(words, words[1:], strict=False))


def document(clinic: Clinic, parts: Parts) -> dict:
    services = [s for s in (clinic.services or []) if s in vocab.SERVICES]
    labels = [vocab.SERVICES[s] for s in services]
    place = " ".join(x for x in (clinic.city, clinic.region, clinic.country) if x)
    public_text = " \n".join(
        [
            clinic.name,
            place,
            " ".join(labels),
            " ".join(parts.practitioners),
            clinic.description or "",
            " ".join(clinic.languages or []),
        ]
    )
    review_digest = digest(parts.testimonials)
    # Neighbouring words of the name and of each practitioner's name, joined
    # ("elifhassan"): a query naming them side by side ranks this clinic first.
    pairs = " ".join(word_pairs(n) for n in [clinic.name, *parts.practitioners])
    lat, lon = clinic.latitude, clinic.longitude
    mask = 0
    for s in services:
        mask |= SERVICE_BITS[s]
    return {
        "id": str(clinic.id),
        "cid": clinic.id,
        "name": clinic.name,
        "text": public_text + " \n" + pairs + " \n" + review_digest,
        "spell": public_text,
        "service": " ".join(services),
        "country": (clinic.country or "").upper(),
        "city": (clinic.city or "").casefold(),
        "price": " ".join(price_terms(clinic)),
        "women": "1" if vocab.WOMENS_SERVICES.intersection(services) else "0",
        "geo": " ".join(geo_terms(lat, lon)),
        "rank": quality.score_rank(clinic.quality_score),
        "reviews": clinic.review_count or 0,
        "lat": NO_COORD if lat is None else int(round(lat * 1e6)),
        "lon": NO_COORD if lon is None else int(round(lon * 1e6)),
        "svcmask": mask,
        "namekey": quality.name_key(clinic.name),
    }


def load_parts(session: Session, clinic_ids: Sequence[int]) -> dict[int, Parts]:
    """Practitioners' names and the newest published testimonials, for many clinics at once."""
    parts: dict[int, Parts] = {cid: Parts() for cid in clinic_ids}
    if not clinic_ids:
        return parts
    for chunk in _chunks(list(clinic_ids), 500):
        rows = session.execute(
            select(Practitioner.clinic_id, Practitioner.name)
            .where(Practitioner.clinic_id.in_(chunk), Practitioner.retired_at.is_(None))
            .order_by(Practitioner.clinic_id, Practitioner.name)
        )
        for cid, name in rows:
            parts[cid].practitioners.append(name)
        ranked = (
            select(
                Review.clinic_id.label("cid"),
                func.substr(Review.text, 1, DIGEST_CHARS).label("text"),
                Review.title.label("title"),
                func.row_number()
                .over(
                    partition_by=Review.clinic_id,
                    order_by=(Review.created_at.desc(), Review.id.desc()),
                )
                .label("n"),
            )
            .where(
                Review.clinic_id.in_(chunk),
                Review.status == "published",
                Review.hidden_pending_report.is_(False),
            )
            .subquery()
        )
        rows = session.execute(
            select(ranked.c.cid, ranked.c.title, ranked.c.text)
            .where(ranked.c.n <= DIGEST_REVIEWS)
            .order_by(ranked.c.cid, ranked.c.n)
        )
        for cid, title, text in rows:
            parts[cid].testimonials.append(f"{title or ''} {text or ''}")
    return parts


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
