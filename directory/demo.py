"""Deterministic demo data: `flask --app directory seed-demo [--clinics N] [--seed S]`.

The same seed gives the same clinics, people, texts and images; dates are laid
out backwards from the day the command runs. Every clinic has a hidden "true
skill" that drives its testimonials' ratings and texts and the realism of its
result photos, so the quality order on the site is meaningful. Four teaching
cases show why price is never a ranking input.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from directory import demo_images
from directory.extensions import db
from directory.models import (
    Clinic,
    FollowUp,
    Photo,
    Practitioner,
    ResultCase,
    Review,
    User,
)
from directory.services import audit, media, moderation, origin, scores, similarity
from directory.services.passwords import hash_password

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - documented demo accounts only
# Fixed so the README can list them; demo only, never for real accounts. Keyed by the
# part of the address before the @. Two moderators, so that an appeal (which another
# moderator must decide) can be tried.
DEMO_TOTP = {
    "moderator": "ZCARKYE7VI7BORSWW7YRAS3I27DMQMMM",
    "moderator2": "2YE47CZDW6ZFBM7OUFJMOJTOOGEDDKXD",
    "admin": "WSWQCM5KZPR2TVFX3X3HCL5ENDNGUAB2",
}
DEMO_ACCOUNTS = (
    ("consumer@example.com", "Casey Consumer", "consumer"),
    ("owner@example.com", "Olivia Owner", "clinic_owner"),
    ("moderator@example.com", "Morgan Moderator", "moderator"),
    ("moderator2@example.com", "Riley Moderator", "moderator"),
    ("admin@example.com", "Alex Admin", "admin"),
)

# city, region, country, latitude, longitude, currency
CITIES = [
    ("London", "England", "GB", 51.5074, -0.1278, "GBP"),
    ("Manchester", "England", "GB", 53.4808, -2.2426, "GBP"),
    ("Dublin", "Leinster", "IE", 53.3498, -6.2603, "EUR"),
    ("Paris", "Île-de-France", "FR", 48.8566, 2.3522, "EUR"),
    ("Berlin", "Berlin", "DE", 52.52, 13.405, "EUR"),
    ("Madrid", "Madrid", "ES", 40.4168, -3.7038, "EUR"),
    ("Milan", "Lombardy", "IT", 45.4642, 9.19, "EUR"),
    ("Amsterdam", "North Holland", "NL", 52.3676, 4.9041, "EUR"),
    ("Stockholm", "Stockholm", "SE", 59.3293, 18.0686, "SEK"),
    ("Warsaw", "Masovia", "PL", 52.2297, 21.0122, "PLN"),
    ("Istanbul", "Istanbul", "TR", 41.0082, 28.9784, "TRY"),
    ("New York", "New York", "US", 40.7128, -74.006, "USD"),
    ("Los Angeles", "California", "US", 34.0522, -118.2437, "USD"),
    ("Chicago", "Illinois", "US", 41.8781, -87.6298, "USD"),
    ("Houston", "Texas", "US", 29.7604, -95.3698, "USD"),
    ("Miami", "Florida", "US", 25.7617, -80.1918, "USD"),
    ("Toronto", "Ontario", "CA", 43.6532, -79.3832, "CAD"),
    ("Vancouver", "British Columbia", "CA", 49.2827, -123.1207, "CAD"),
    ("Mexico City", "CDMX", "MX", 19.4326, -99.1332, "MXN"),
    ("São Paulo", "São Paulo", "BR", -23.5505, -46.6333, "BRL"),
    ("Buenos Aires", "Buenos Aires", "AR", -34.6037, -58.3816, "ARS"),
    ("Sydney", "New South Wales", "AU", -33.8688, 151.2093, "AUD"),
    ("Melbourne", "Victoria", "AU", -37.8136, 144.9631, "AUD"),
    ("Auckland", "Auckland", "NZ", -36.8485, 174.7633, "NZD"),
    ("Tokyo", "Tokyo", "JP", 35.6762, 139.6503, "JPY"),
    ("Seoul", "Seoul", "KR", 37.5665, 126.978, "KRW"),
    ("Singapore", "Singapore", "SG", 1.3521, 103.8198, "SGD"),
    ("Bangkok", "Bangkok", "TH", 13.7563, 100.5018, "THB"),
    ("Mumbai", "Maharashtra", "IN", 19.076, 72.8777, "INR"),
    ("Dubai", "Dubai", "AE", 25.2048, 55.2708, "AED"),
    ("Johannesburg", "Gauteng", "ZA", -26.2041, 28.0473, "ZAR"),
    ("Cape Town", "Western Cape", "ZA", -33.9249, 18.4241, "ZAR"),
    ("Lagos", "Lagos", "NG", 6.5244, 3.3792, "NGN"),
    ("Nairobi", "Nairobi", "KE", -1.2921, 36.8219, "KES"),
    ("Cairo", "Cairo", "EG", 30.0444, 31.2357, "EGP"),
    ("Manila", "Metro Manila", "PH", 14.5995, 120.9842, "PHP"),
]
# Rough USD value of one unit of each currency, to keep demo prices sensible.
USD_PER = {
    "USD": 1,
    "GBP": 1.27,
    "EUR": 1.08,
    "SEK": 0.095,
    "PLN": 0.25,
    "TRY": 0.03,
    "CAD": 0.73,
    "MXN": 0.055,
    "BRL": 0.19,
    "ARS": 0.001,
    "AUD": 0.66,
    "NZD": 0.6,
    "JPY": 0.0067,
    "KRW": 0.00073,
    "SGD": 0.74,
    "THB": 0.028,
    "INR": 0.012,
    "AED": 0.27,
    "ZAR": 0.054,
    "NGN": 0.00065,
    "KES": 0.0077,
    "EGP": 0.02,
    "PHP": 0.017,
}
LANGS = {
    "GB": ["English"],
    "IE": ["English", "Irish"],
    "FR": ["French", "English"],
    "DE": ["German", "English"],
    "ES": ["Spanish", "English"],
    "IT": ["Italian", "English"],
    "NL": ["Dutch", "English"],
    "SE": ["Swedish", "English"],
    "PL": ["Polish", "English"],
    "TR": ["Turkish", "English", "Arabic"],
    "US": ["English", "Spanish"],
    "CA": ["English", "French"],
    "MX": ["Spanish"],
    "BR": ["Portuguese"],
    "AR": ["Spanish"],
    "AU": ["English"],
    "NZ": ["English"],
    "JP": ["Japanese"],
    "KR": ["Korean", "English"],
    "SG": ["English", "Mandarin", "Malay"],
    "TH": ["Thai", "English"],
    "IN": ["Hindi", "English", "Marathi"],
    "AE": ["Arabic", "English"],
    "ZA": ["English", "Afrikaans", "Zulu"],
    "NG": ["English", "Yoruba"],
    "KE": ["English", "Swahili"],
    "EG": ["Arabic", "English"],
    "PH": ["Filipino", "English"],
}

NAME_A = [
    "Precision",
    "True Line",
    "Follicle",
    "Stubble",
    "Inkwell",
    "Crown",
    "Shade",
    "Pointe",
    "Hairline",
    "Dotwork",
    "Scalp",
    "Micro",
    "Artisan",
    "Clearview",
    "Northline",
    "Halo",
    "Pixel",
    "Signature",
    "Evergreen",
    "Keystone",
    "Summit",
    "Blueprint",
    "Fineline",
    "Nova",
    "Granite",
    "Cedar",
    "Linden",
    "Harbour",
    "Atlas",
    "Meridian",
]
NAME_B = [
    "SMP",
    "Scalp Studio",
    "Scalp Clinic",
    "Micropigmentation",
    "Hair Tattoo Studio",
    "SMP Studio",
    "Scalp Artistry",
    "SMP Clinic",
    "Scalp Works",
    "Pigment Lab",
]
FIRST = [
    "Alex",
    "Sam",
    "Jordan",
    "Chris",
    "Daniel",
    "Maria",
    "Lucas",
    "Sofia",
    "Omar",
    "Aisha",
    "Kenji",
    "Min-jun",
    "Priya",
    "Ravi",
    "Lena",
    "Mateo",
    "Chloe",
    "Tom",
    "Ines",
    "Kwame",
    "Zanele",
    "Yusuf",
    "Elif",
    "Hana",
    "Diego",
    "Nina",
    "Jonas",
    "Marek",
    "Ana",
    "Wei",
    "Tariq",
    "Grace",
    "Felix",
    "Amara",
    "Leo",
    "Sara",
    "Ivan",
    "Noah",
    "Layla",
    "Ben",
]
LAST = [
    "Smith",
    "García",
    "Müller",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Yılmaz",
    "Tanaka",
    "Kim",
    "Patel",
    "Okafor",
    "Mensah",
    "Silva",
    "Nguyen",
    "Hassan",
    "Johansson",
    "Novak",
    "Reyes",
    "Brown",
    "Khan",
    "Ivanova",
    "Lopez",
    "Cohen",
    "Walker",
    "Sato",
    "Moreau",
    "Costa",
]
STREETS = ["High", "Park", "Main", "Station", "Market", "King"]
TRAININGS = [
    "Certified in SMP by a recognised academy",
    "Ten years as a tattoo artist before SMP",
    "Trained in scar camouflage and paramedical pigmentation",
    "Advanced hairline design course",
    "Women's density and scar work specialist",
    "Trained in laser-free corrections",
    "Apprenticed for two years before working solo",
]

OPENERS = {
    "high": [
        "I spent a year researching clinics before choosing this one.",
        "After years of shaving my head to hide the thinning, I finally did it.",
        "I was nervous about something permanent, so I asked to see healed results first.",
        "My barber was the one who noticed how natural it looked.",
    ],
    "mid": [
        "I had three sessions here last year.",
        "It was my first experience with scalp micropigmentation.",
        "I picked this clinic because it was close to my work.",
        "Overall the experience was mixed, so here is the detail.",
    ],
    "low": [
        "I wish I had read more testimonials before booking.",
        "I chose this clinic mostly on price, and I regret it.",
        "I am writing this so that others can avoid my mistake.",
        "The consultation was short and I was not shown any healed work.",
    ],
}
PHRASES = {
    "realism": {
        "high": "Up close it reads as real stubble, and from a distance nobody can tell.",
        "mid": "From a normal distance it passes, but up close the dots are visible.",
        "low": "It looks like ink painted on a bald head rather than hair.",
    },
    "hairline": {
        "high": "The hairline is soft and slightly irregular, right for my age.",
        "mid": "The hairline is a little too straight but acceptable.",
        "low": "The hairline is a hard, straight line that no real person has.",
    },
    "pigment": {
        "high": "The colour matches my shaved hair and has not shifted at all.",
        "mid": "The shade is a touch too dark in bright light.",
        "low": "Within months the pigment turned blue-green under daylight.",
    },
    "dots": {
        "high": "The dots are tiny, well spaced and in several shades, so it has real depth.",
        "mid": "Dot size is fine, though some areas are a bit dense.",
        "low": "The dots are too big and packed so densely they merge into patches.",
    },
    "healing": {
        "high": "It healed evenly and still looks the same after a long time.",
        "mid": "Healing was uneven on the crown and needed a touch-up.",
        "low": "Some dots blurred as it healed; the pigment went too deep.",
    },
    "care": {
        "high": "The practitioner explained aftercare clearly and was honest about limits.",
        "mid": "The studio was clean, but aftercare advice was brief.",
        "low": "Hygiene looked careless and questions were brushed off.",
    },
}
CLOSERS = {
    "high": [
        "I would recommend them without hesitation.",
        "Worth every session.",
        "It changed how I feel in the mirror.",
    ],
    "mid": [
        "Decent work, but compare healed results before you book.",
        "Good enough for me, though not perfect.",
        "I might go elsewhere for the touch-up.",
    ],
    "low": [
        "I am now booking laser removal elsewhere.",
        "Please look at healed photos first.",
        "I needed a corrective treatment at another clinic.",
    ],
}
FOLLOWUPS = {
    "high": "Update after more than a year: the colour has held, no fading or shift, and I only "
    "need the usual touch-up eventually.",
    "mid": "Update: some fading on the crown after a summer outdoors; a touch-up evened it out.",
    "low": "Update: the blue tint has got worse and I have started laser sessions to remove it.",
}


@dataclass
class Plan:
    name: str
    city: tuple
    skill: float
    price_usd: tuple[int, int]
    n_reviews: int
    correction_rate: float = 0.0
    services: tuple[str, ...] | None = None
    founded: int | None = None


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100]


def level(v: float) -> str:
    return "high" if v >= 4 else "mid" if v >= 3 else "low"


def clamp(v: float) -> int:
    return max(1, min(5, int(round(v))))


def _plans(rng: random.Random, n: int) -> list[Plan]:
    by_name = {c[0]: c for c in CITIES}
    plans = [
        # Teaching cases: price and quality pull in opposite directions.
        Plan(
            "Budget Ink SMP",
            by_name["Manchester"],
            1.8,
            (400, 700),
            14,
            0.35,
            ("full_scalp", "hairline"),
            2021,
        ),
        Plan(
            "Atelier Follicle",
            by_name["London"],
            4.8,
            (3200, 4500),
            22,
            0.0,
            ("full_scalp", "hairline", "density", "scar", "correction"),
            2012,
        ),
        Plan(
            "Fresh Start Scalp Studio",
            by_name["Toronto"],
            4.2,
            (1500, 2500),
            1,
            0.0,
            ("full_scalp", "hairline", "density"),
            2026,
        ),
        Plan(
            "Rescue Point SMP",
            by_name["Los Angeles"],
            3.3,
            (1200, 2200),
            12,
            0.3,
            ("full_scalp", "hairline", "correction", "removal"),
            2016,
        ),
    ]
    used = {p.name for p in plans}
    while len(plans) < n:
        city = CITIES[len(plans) % len(CITIES)]
        name = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)}"
        if name in used:
            name = f"{name} {city[0]}"
        if name in used:
            continue
        used.add(name)
        skill = max(1.4, min(4.9, rng.gauss(3.6, 0.75)))
        lo = rng.choice([800, 1000, 1200, 1500, 1800, 2000, 2500])
        hi = lo + rng.choice([500, 800, 1000, 1500])
        n_rev = rng.choice([0, 0, 2, 3, 5, 6, 8, 10, 12, 15, 18, 25])
        services = ["full_scalp", "hairline"]
        for s, p in (("density", 0.5), ("scar", 0.4), ("correction", 0.25), ("removal", 0.1)):
            if rng.random() < p:
                services.append(s)
        plans.append(
            Plan(
                name,
                city,
                skill,
                (lo, hi),
                n_rev,
                0.25 if skill < 2.6 else 0.03,
                tuple(services),
                rng.randint(2008, 2025),
            )
        )
    return plans[:n]


def _review_text(rng: random.Random, ratings: dict[str, int], corrected: bool) -> str:
    lv = level(ratings["overall"])
    parts = [rng.choice(OPENERS[lv])]
    dims = [k for k in PHRASES if k in ratings]
    rng.shuffle(dims)
    for k in dims[: rng.randint(2, 4)]:
        parts.append(PHRASES[k][level(ratings[k])])
    parts.append(rng.choice(CLOSERS["low" if corrected else lv]))
    return " ".join(parts)


def _price_local(usd: int, currency: str) -> int:
    value = usd / USD_PER[currency]
    magnitude = 10 ** max(0, len(str(int(value))) - 2)
    return int(round(value / magnitude) * magnitude)


def seed(n_clinics: int = 150, seed_value: int = 2026, with_images: bool = True, log=print) -> dict:
    """Fill an empty database with demo data; returns a summary. Stages; the caller commits."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    pw = hash_password(DEMO_PASSWORD)

    accounts = {}
    for email, name, role in DEMO_ACCOUNTS:
        u = User(
            email=email,
            display_name=name,
            role=role,
            password_hash=pw,
            email_verified_at=now - timedelta(days=400),
            created_at=now - timedelta(days=400),
        )
        key = email.split("@")[0]
        if key in DEMO_TOTP:
            u.totp_secret = DEMO_TOTP[key]
            u.totp_confirmed_at = now - timedelta(days=399)
        db.session.add(u)
        accounts[key] = u

    reviewers = []
    for i in range(max(60, n_clinics * 3)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        u = User(
            # Distinct letters, not a running number: "reviewer1", "reviewer2"... is
            # the very pattern of a ring of accounts the trust signals look for.
            email=f"{slugify(first)}.{slugify(last)}.{_letters(i)}@example.com",
            display_name=f"{first} {last[0]}.",
            role="consumer",
            password_hash=pw,
            created_at=now - timedelta(days=rng.randint(30, 1500)),
        )
        u.email_verified_at = u.created_at + timedelta(hours=1)
        reviewers.append(u)
    db.session.add_all(reviewers)
    db.session.flush()
    _record_origins([*accounts.values(), *reviewers], seed_value)

    plans = _plans(rng, n_clinics)
    # Authors' cases, case-specific skill and review photos come from a second
    # generator, seeded from the same seed.
    crng = random.Random(seed_value * 7919 + 1)
    moderator = accounts["moderator"]
    clinics = []
    n_reviews = n_cases = 0
    case_deltas = [_case_deltas(crng, plan) for plan in plans]
    for idx, plan in enumerate(plans):
        city, region, country, lat, lon, currency = plan.city
        c = Clinic(
            slug=slugify(f"{plan.name} {city}"),
            name=plan.name,
            description=_clinic_description(rng, plan, city),
            email=f"hello@{slugify(plan.name)}.example",
            phone=f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            website=f"https://{slugify(plan.name)}.example",
            address=f"{rng.randint(1, 220)} {rng.choice(STREETS)} Street",
            postal_code=str(rng.randint(10000, 99999)),
            city=city,
            region=region,
            country=country,
            latitude=round(lat + rng.uniform(-0.05, 0.05), 5),
            longitude=round(lon + rng.uniform(-0.05, 0.05), 5),
            services=list(plan.services or ("full_scalp", "hairline")),
            languages=LANGS.get(country, ["English"]),
            price_min=_price_local(plan.price_usd[0], currency),
            price_max=_price_local(plan.price_usd[1], currency),
            currency=currency,
            year_founded=plan.founded,
            status="listed",
            created_at=now - timedelta(days=40 if plan.founded == 2026 else rng.randint(200, 1800)),
        )
        if plan.name == "Atelier Follicle":
            c.owner_id = accounts["owner"].id
            c.status = "verified"
        db.session.add(c)
        clinics.append(c)
        db.session.flush()
        practitioners = []
        for _ in range(rng.randint(1, 3)):
            p = Practitioner(
                clinic_id=c.id,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                years_practice=rng.randint(1, 15),
                training=rng.choice(TRAININGS),
            )
            db.session.add(p)
            practitioners.append(p)
        db.session.flush()
        authors = rng.sample(reviewers, min(plan.n_reviews + 2, len(reviewers)))
        for k in range(plan.n_reviews + (2 if plan.n_reviews > 3 else 0)):
            n_reviews += _add_review(
                rng,
                c,
                plan,
                authors[k],
                practitioners,
                now,
                today,
                pending=k >= plan.n_reviews,
                five_star=plan.name == "Fresh Start Scalp Studio",
                crng=crng,
                deltas=case_deltas[idx],
                with_images=with_images,
                moderator=moderator,
            )
        if with_images and (plan.n_reviews >= 3 or idx < 4):
            for _ in range(rng.randint(1, 3)):
                _add_case(rng, c, plan, practitioners, accounts["owner"].id, now, moderator)
                n_cases += 1
    db.session.flush()
    # Demo testimonials are written from one small pool of sentences, so many are
    # near-duplicates of each other: the queue shows it, as it would for real ones.
    similarity.rebuild_texts()
    scores.recompute_all(now)
    _refused_testimonial(accounts, clinics)
    log(
        f"Seeded {len(clinics)} clinics in {len({c.city for c in clinics})} cities, "
        f"{n_reviews} testimonials, {n_cases} result cases."
    )
    return {"clinics": len(clinics), "reviews": n_reviews, "cases": n_cases}


def _letters(i: int) -> str:
    out = ""
    i += 26 * 26  # at least three letters
    while i:
        i, r = divmod(i, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[r] + out
    return out


def _record_origins(users: list[User], seed_value: int) -> None:
    """Give every demo account (staff and owners too) a sign-up origin from a private
    address and a device of its own, one network per account, so that the trust
    signals have something to compare and no two demo accounts look linked."""
    from flask import current_app

    key = current_app.config["SECRET_KEY"]
    rng = random.Random(seed_value + 1)
    for i, u in enumerate(users):
        address = f"10.{i // 256}.{i % 256}.{rng.randint(1, 254)}"
        here = origin.from_values(address, f"demo-device-{seed_value}-{i:05d}", key)
        u.signup_origin = here.network_hash
        origin.record(u, "signup", origin=here)


def _refused_testimonial(accounts: dict, clinics: list[Clinic]) -> None:
    """Casey's testimonial, rejected by Morgan: Casey can appeal it from /account and
    Riley (not Morgan) can decide the appeal."""
    clinic = next(c for c in clinics if c.owner_id != accounts["consumer"].id)
    review = Review(
        clinic_id=clinic.id,
        author_id=accounts["consumer"].id,
        treatment_type=clinic.services[0],
        sessions=3,
        last_session_month=(datetime.now(UTC) - timedelta(days=240)).date().replace(day=1),
        overall=4,
        text="Three sessions, a natural hairline and no blue tint after eight months. "
        "The studio explained the healing and the touch-up honestly.",
        status="pending",
    )
    db.session.add(review)
    db.session.flush()
    moderation.decide(
        review,
        "reject",
        by=accounts["moderator"],
        reason_code="insufficient_evidence",
        statement="We could not tell whether this was a first-hand treatment; "
        "an appeal with a booking or invoice is welcome.",
    )


def _clinic_description(rng: random.Random, plan: Plan, city: str) -> str:
    lines = [
        f"{plan.name} is a scalp micropigmentation studio in {city}.",
        rng.choice(
            [
                "We build a natural hairline for your face shape and age.",
                "Every treatment starts with a consultation and a patch of test dots.",
                "We layer three shades of pigment so the result has depth.",
                "Our practitioners specialise in realistic buzz-cut looks.",
            ]
        ),
        rng.choice(
            [
                "Most clients need three sessions about a week apart.",
                "We photograph every result again after it has healed.",
                "Women's density treatments are done without shaving.",
                "We also camouflage scars from hair transplants.",
            ]
        ),
    ]
    if plan.price_usd[0] < 800:
        lines.append("Lowest prices in town, sessions available the same week.")
    return "\n".join(lines)


# Typical Fitzpatrick types of the demo's clients by country (mean, spread).
SKIN_BY_COUNTRY = {
    "NG": (5.6, 0.5),
    "KE": (5.6, 0.5),
    "ZA": (4.3, 1.4),
    "EG": (4.0, 0.8),
    "IN": (4.4, 0.8),
    "AE": (3.8, 1.0),
    "BR": (3.6, 1.3),
    "MX": (3.8, 0.9),
    "TH": (3.8, 0.7),
    "PH": (4.0, 0.7),
    "SG": (3.3, 0.8),
    "JP": (3.0, 0.5),
    "KR": (3.0, 0.5),
    "TR": (3.2, 0.8),
    "US": (3.0, 1.5),
    "GB": (2.5, 1.3),
    "CA": (2.6, 1.3),
}


def _case_deltas(crng: random.Random, plan: Plan) -> dict[str, float]:
    """A clinic's hidden skill for particular cases, added to its overall skill: some
    do better on dark skin or on women's density work than others."""
    country = plan.city[2]
    dark_bias = 0.35 if SKIN_BY_COUNTRY.get(country, (2.5, 1))[0] >= 4 else -0.15
    return {
        "dark_skin": crng.gauss(dark_bias, 0.45),
        "density": crng.gauss(0.0, 0.45),
        "extensive": crng.gauss(0.0, 0.3),  # Norwood VI-VII
    }


def _author_case(crng: random.Random, clinic, treatment: str) -> dict:
    """An author's case, typical for the clinic's country; about one in eight left empty."""
    if crng.random() < 0.12:
        return {}
    mean, spread = SKIN_BY_COUNTRY.get(clinic.country, (2.5, 1.0))
    skin = max(1, min(6, int(round(crng.gauss(mean, spread)))))
    if skin >= 5:
        hair = crng.choice(["black", "black", "black", "dark_brown", "grey"])
    elif skin >= 3:
        hair = crng.choice(["black", "dark_brown", "dark_brown", "light_brown", "grey"])
    else:
        hair = crng.choice(["dark_brown", "light_brown", "light_brown", "blond", "red", "grey"])
    if treatment == "density":
        return {
            "stage": f"ludwig-{crng.randint(1, 3)}",
            "skin_type": skin,
            "hair_colour": hair,
            "goal": "density",
        }
    goal = "scar" if treatment == "scar" else "buzz"
    stage = crng.choice([2, 3, 3, 4, 4, 5, 5, 6, 6, 7])
    return {"stage": f"norwood-{stage}", "skin_type": skin, "hair_colour": hair, "goal": goal}


def _case_skill(skill: float, case: dict, deltas: dict[str, float]) -> float:
    if case.get("skin_type", 0) >= 5:
        skill += deltas["dark_skin"]
    if case.get("goal") == "density":
        skill += deltas["density"]
    if case.get("stage") in ("norwood-6", "norwood-7"):
        skill += deltas["extensive"]
    return max(1.0, min(5.0, skill))


_DEMO_RUBRIC = ("realism", "hairline", "pigment", "dots", "care")


def _add_review(
    rng,
    clinic,
    plan,
    author,
    practitioners,
    now,
    today,
    pending,
    five_star,
    crng=None,
    deltas=None,
    with_images=False,
    moderator=None,
) -> int:
    # Each step draws from `rng` (and `crng`) in a fixed order: the demo a seed gives
    # must stay the same, so steps keep their order and their draws.
    crng = crng or random.Random(0)
    treatment = crng.choice(clinic.services)
    case = _author_case(crng, clinic, treatment)
    skill = plan.skill if five_star else _case_skill(plan.skill, case, deltas or {})
    ratings = _demo_ratings(rng, skill, five_star)
    written = _demo_written_at(rng, now, pending, five_star)
    _backdate_author(author, written)
    last = (written - timedelta(days=30 * rng.randint(0, 14))).date().replace(day=1)
    months_since = (today.year - last.year) * 12 + today.month - last.month
    if months_since >= 6 and rng.random() < 0.6 and not five_star:
        ratings["healing"] = _demo_healing(rng, skill)
    corrected = rng.random() < plan.correction_rate
    review = Review(
        clinic_id=clinic.id,
        author_id=author.id,
        practitioner_id=rng.choice(practitioners).id if rng.random() < 0.7 else None,
        treatment_type=treatment,
        sessions=rng.randint(2, 5),
        last_session_month=last,
        **case,
        needed_correction=corrected,
        **_demo_price(rng, clinic),
        text=_review_text(rng, ratings, corrected),
        status="pending" if pending else "published",
        created_at=written,
        published_at=None if pending else written + timedelta(days=1),
        **ratings,
    )
    if not pending and rng.random() < 0.3:
        review.verified_at = written + timedelta(days=2)
        review.verification_note = "Invoice from the clinic shown to a moderator."
    db.session.add(review)
    db.session.flush()
    if pending:
        return 1
    _demo_decision(moderator, "review", review.id, "publish", clinic.id, author.id, written)
    if review.verified_at is not None:
        _demo_decision(moderator, "review", review.id, "verify", clinic.id, author.id, written)
    # The same draw with or without images, so --no-images gives the same cases.
    if case and crng.random() < 0.08 and with_images:
        _demo_review_photo(review, case, skill, written, last)
    if months_since >= 13 and rng.random() < 0.25:
        _demo_followup(rng, review, skill, now, moderator)
    return 1


def _demo_ratings(rng, skill: float, five_star: bool) -> dict[str, int]:
    if five_star:
        return {k: 5 for k in ("overall", *_DEMO_RUBRIC)}
    ratings = {"overall": clamp(rng.gauss(skill, 0.55))}
    for k in _DEMO_RUBRIC:
        if rng.random() < 0.85:
            ratings[k] = clamp(rng.gauss(skill, 0.7))
    return ratings


def _demo_healing(rng, skill: float) -> int:
    """Healing six or more months on: poor work fades a little more."""
    return clamp(rng.gauss(skill - (0.3 if skill < 3 else 0), 0.7))


def _demo_written_at(rng, now, pending: bool, five_star: bool):
    if pending:  # waiting for a moderator: submitted in the last few days
        age_days = rng.randint(0, 6)
    else:
        age_days = rng.randint(10, 60) if five_star else rng.randint(20, 1500)
    return now - timedelta(days=age_days)


def _backdate_author(author, written) -> None:
    """Accounts exist before they write (and established reviewers are not "new").
    Not drawn from `rng`: the rest of the demo stays as it was for a given seed."""
    if author.created_at > written - timedelta(days=31):
        author.created_at = written - timedelta(days=31 + (author.id * 37) % 370)


def _demo_price(rng, clinic) -> dict:
    if clinic.price_min and rng.random() < 0.5:
        paid = rng.randint(clinic.price_min, clinic.price_max) // 10 * 10
        return {"price_paid": paid, "price_currency": clinic.currency}
    return {"price_paid": None, "price_currency": None}


def _demo_review_photo(review, case: dict, skill: float, written, last) -> None:
    months = max(0, (written.year - last.year) * 12 + written.month - last.month)
    hair = case["hair_colour"] if case["hair_colour"] in demo_images.HAIR else "dark_brown"
    picture_rng = random.Random(review.id * 7919 + months)
    im = demo_images.after(picture_rng, case["skin_type"], hair, skill, months)
    photo = media.store_image(
        im,
        uploader_id=review.author_id,
        kind="review",
        consent=True,
        review_id=review.id,
        clinic_id=review.clinic_id,
    )
    photo.status, photo.published_at = "published", written + timedelta(days=1)


def _demo_followup(rng, review, skill: float, now, moderator) -> None:
    corrected = review.needed_correction
    fu = FollowUp(
        review_id=review.id,
        healing=clamp(rng.gauss(skill, 0.5)),
        needed_correction=corrected,
        text=FOLLOWUPS["low" if corrected else level(skill)],
        status="published",
        created_at=now - timedelta(days=rng.randint(1, 60)),
        published_at=now - timedelta(days=1),
    )
    db.session.add(fu)
    db.session.flush()
    _demo_decision(
        moderator, "followup", fu.id, "publish", review.clinic_id, review.author_id, fu.created_at
    )


def _demo_decision(moderator, item_type, item_id, action, clinic_id, subject_id, submitted):
    """The decision behind a demo item, in the append-only log like any other, so the
    public moderation figures count it (decided a day after submission)."""
    if moderator is None:
        return
    row = audit.record(
        by=moderator,
        item_type=item_type,
        item_id=item_id,
        action=action,
        reason_code="verified_proof" if action == "verify" else "meets_guidelines",
        statement="Demo data: invoice seen."
        if action == "verify"
        else "Demo data: meets our guidelines.",
        previous_status="pending",
        new_status="published",
        clinic_id=clinic_id,
        subject_user_id=subject_id,
        item_submitted_at=submitted,
    )
    row.created_at = submitted + timedelta(days=1 if action != "verify" else 2)


def _add_case(rng, clinic, plan, practitioners, uploader_id, now, moderator=None) -> None:
    skin = rng.randint(1, 6)
    hair = rng.choice(list(demo_images.HAIR))
    women = "density" in clinic.services and rng.random() < 0.25
    stage_n = rng.randint(1, 3) if women else rng.randint(2, 7)
    months = rng.choice([0, 1, 3, 6, 12, 18, 24])
    before = demo_images.before(rng, skin, hair, stage_n)
    after = demo_images.after(rng, skin, hair, plan.skill, months)
    pb = media.store_image(
        before, uploader_id=uploader_id, kind="before", consent=True, clinic_id=clinic.id
    )
    pa = media.store_image(
        after, uploader_id=uploader_id, kind="after", consent=True, clinic_id=clinic.id
    )
    for p in (pb, pa):
        p.status = "published"
        p.published_at = now
    db.session.flush()
    case = ResultCase(
        clinic_id=clinic.id,
        practitioner_id=rng.choice(practitioners).id,
        submitted_by_id=None,
        before_photo_id=pb.id,
        after_photo_id=pa.id,
        treatment_type="density" if women else rng.choice(["full_scalp", "hairline"]),
        sessions=rng.randint(2, 5),
        months_since_last_session=months,
        stage=f"ludwig-{stage_n}" if women else f"norwood-{stage_n}",
        skin_type=skin,
        hair_colour=hair,
        goal="density" if women else "buzz",
        consent_confirmed=True,
        status="published",
        created_at=now - timedelta(days=rng.randint(5, 400)),
        published_at=now,
    )
    db.session.add(case)
    db.session.flush()
    _demo_decision(moderator, "result_case", case.id, "publish", clinic.id, None, case.created_at)
    clinic.result_count = (clinic.result_count or 0) + 1


def is_empty() -> bool:
    return db.session.execute(db.select(Clinic.id).limit(1)).first() is None


def summary_lines() -> list[str]:
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for email, _name, role in DEMO_ACCOUNTS:
        key = email.split("@")[0]
        extra = f"  TOTP secret {DEMO_TOTP[key]}" if key in DEMO_TOTP else ""
        lines.append(f"  {role:<13} {email}{extra}")
    return lines


__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "DEMO_TOTP",
    "Photo",
    "is_empty",
    "seed",
    "summary_lines",
]
