"""`make relevance`: the judged relevance set, run through the real /search page.

Each judged query is what a visitor types (or picks) on /search over the demo
data (`flask seed-demo`, seed 2026, 150 clinics). Its judgment names the
clinics that must come first, computed from the database so it stays readable:

- ("city", "London"): every public clinic of that city, best quality first;
- ("country", "GB"): every public clinic of that country, best quality first;
- ("city_service", "London", "scar"): the city's clinics offering the service;
- ("names", "Atelier Follicle", ...): these clinics, in this order;
- ("practitioner", "Diego Okafor"): the clinics where that person works.

A query passes when the first results are exactly the judged clinics (all of
them, or the first page's worth) and the very first is the judged best.
Figures: recall (judged clinics on the first page / judged clinics that fit
on it) and nDCG@10 (gain 2 for the judged best, 1 for the other judged ones).
`tests/search/test_relevance.py` fails on any query that does not pass.

    python -m benchmarks.relevance          # prints the figures and failures
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from directory.demo import CITIES

PAGE = 20

_SMP_CITY = [(f"smp {c[0].lower()}", ("city", c[0])) for c in CITIES]
_BARE_CITY = [(c[0], ("city", c[0])) for c in CITIES]

# (query string parameters or the words typed, judgment)
JUDGED: list[tuple[dict | str, tuple]] = [
    *_SMP_CITY,
    *_BARE_CITY,
    # Filler words people type around the place.
    ("best smp new york", ("city", "New York")),
    ("best smp clinic near london", ("city", "London")),
    ("top rated scalp micropigmentation clinic in manchester", ("city", "Manchester")),
    ("where can i get smp in paris", ("city", "Paris")),
    ("scalp tattoo studio dublin", ("city", "Dublin")),
    ("hair tattoo toronto", ("city", "Toronto")),
    ("trichopigmentation milan", ("city", "Milan")),
    ("micro pigmentation sydney", ("city", "Sydney")),
    ("smp clinics near me in berlin", ("city", "Berlin")),
    # Misspelt places.
    ("smp londn", ("city", "London")),
    ("manchster smp", ("city", "Manchester")),
    ("smp amsterdm", ("city", "Amsterdam")),
    ("smp los angelas", ("city", "Los Angeles")),
    ("scalp micropigmentation stokholm", ("city", "Stockholm")),
    # Aliases and other spellings of places.
    ("smp nyc", ("city", "New York")),
    ("smp ny", ("city", "New York")),
    ("smp la", ("city", "Los Angeles")),
    ("smp sao paulo", ("city", "São Paulo")),
    ("smp são paulo", ("city", "São Paulo")),
    ("smp bombay", ("city", "Mumbai")),
    ("smp milano", ("city", "Milan")),
    ("smp warszawa", ("city", "Warsaw")),
    ("smp cdmx", ("city", "Mexico City")),
    ("smp mexico city", ("city", "Mexico City")),
    # Countries and their aliases.
    ("smp uk", ("country", "GB")),
    ("smp united kingdom", ("country", "GB")),
    ("smp england", ("country", "GB")),
    ("smp britain", ("country", "GB")),
    ("smp usa", ("country", "US")),
    ("smp in the united states", ("country", "US")),
    ("smp deutschland", ("country", "DE")),
    ("smp holland", ("country", "NL")),
    ("smp brasil", ("country", "BR")),
    ("smp south africa", ("country", "ZA")),
    ("smp japan", ("country", "JP")),
    ({"country": "UK"}, ("country", "GB")),
    ({"country": "United Kingdom"}, ("country", "GB")),
    ({"country": "germany"}, ("country", "DE")),
    # Regions (matched in the clinics' address words).
    ("smp california", ("city", "Los Angeles")),
    ("smp texas", ("city", "Houston")),
    # Services and their synonyms.
    ("scar camouflage london", ("city_service", "London", "scar")),
    ("scar cover up manchester", ("city_service", "Manchester", "scar")),
    ("smp for women paris", ("city_service", "Paris", "density")),
    ("thinning hair berlin", ("city_service", "Berlin", "density")),
    ("smp correction los angeles", ("city_service", "Los Angeles", "correction")),
    ("fix bad smp chicago", ("city_service", "Chicago", "correction")),
    ("laser removal berlin", ("city_service", "Berlin", "removal")),
    # Clinic and practitioner names, with typos.
    ("Atelier Follicle", ("names", "Atelier Follicle")),
    ("atelier folicle", ("names", "Atelier Follicle")),
    ("budget ink", ("names", "Budget Ink SMP")),
    ("rescue point smp", ("names", "Rescue Point SMP")),
    ("Fresh Start Scalp Studio", ("names", "Fresh Start Scalp Studio")),
    ("meridian smp clinic", ("names", "Meridian SMP Clinic")),
    ("granite smp clinic new york", ("names", "Granite SMP Clinic")),
    ("Diego Okafor", ("practitioner", "Diego Okafor")),
    ("zanele hassan", ("practitioner", "Zanele Hassan")),
    ("leo novak smp", ("practitioner", "Leo Novak")),
]


@dataclass
class Outcome:
    label: str
    expected: list[str]
    got: list[str]
    recall: float
    ndcg: float
    passed: bool
    status: int


def params_of(query: dict | str) -> dict:
    return {"q": query} if isinstance(query, str) else dict(query)


def label_of(query: dict | str) -> str:
    return query if isinstance(query, str) else urlencode(query)


def _quality_order(clinics) -> list:
    return sorted(
        clinics,
        key=lambda c: (
            c.quality_score is None,
            -(c.quality_score or 0),
            -(c.review_count or 0),
            c.name.casefold(),
            c.id,
        ),
    )


def expected_names(judgment: tuple) -> list[str]:
    """The judged clinics, best first (needs an app context)."""
    from sqlalchemy import select

    from directory.extensions import db
    from directory.models import Clinic, Practitioner
    from directory.vocab import PUBLIC_CLINIC_STATUSES

    kind, *args = judgment
    public = select(Clinic).where(Clinic.status.in_(PUBLIC_CLINIC_STATUSES))
    if kind == "names":
        return list(args)
    if kind == "city":
        rows = db.session.execute(public.where(Clinic.city == args[0])).scalars()
    elif kind == "country":
        rows = db.session.execute(public.where(Clinic.country == args[0])).scalars()
    elif kind == "city_service":
        rows = [
            c
            for c in db.session.execute(public.where(Clinic.city == args[0])).scalars()
            if args[1] in (c.services or [])
        ]
    elif kind == "practitioner":
        rows = db.session.execute(
            public.join(Practitioner, Practitioner.clinic_id == Clinic.id).where(
                Practitioner.name == args[0], Practitioner.retired_at.is_(None)
            )
        ).scalars()
    else:
        raise ValueError(kind)
    return [c.name for c in _quality_order(list(rows))]


_CARD = re.compile(r'<h2 class="h5 card-title mb-1"><a href="/clinics/[^"]+">([^<]+)</a>')


def result_names(client, params: dict) -> tuple[int, list[str]]:
    import html

    resp = client.get("/search?" + urlencode(params))
    body = resp.get_data(as_text=True)
    return resp.status_code, [html.unescape(n) for n in _CARD.findall(body)]


def judge(label: str, expected: list[str], got: list[str], status: int) -> Outcome:
    must = expected[:PAGE]
    top = got[: len(must)]
    passed = status == 200 and bool(got) and got[0] == expected[0] and set(top) == set(must)
    recall = len(set(got[:PAGE]) & set(expected)) / max(1, len(must))
    gains = {name: (2 if i == 0 else 1) for i, name in enumerate(expected)}
    dcg = sum(gains.get(n, 0) / math.log2(i + 2) for i, n in enumerate(got[:10]))
    ideal = sum(gains[n] / math.log2(i + 2) for i, n in enumerate(expected[:10]))
    return Outcome(label, expected, got, recall, dcg / ideal if ideal else 0.0, passed, status)


def run_all(app) -> list[Outcome]:
    client = app.test_client()
    out = []
    for query, judgment in JUDGED:
        with app.app_context():
            expected = expected_names(judgment)
        status, got = result_names(client, params_of(query))
        out.append(judge(label_of(query), expected, got, status))
    return out


def summary(outcomes: list[Outcome]) -> str:
    n = len(outcomes)
    passed = sum(o.passed for o in outcomes)
    recall = sum(o.recall for o in outcomes) / n
    ndcg = sum(o.ndcg for o in outcomes) / n
    return (
        f"judged queries: {n}; passed: {passed}; mean recall (first page): {recall:.3f}; "
        f"mean nDCG@10: {ndcg:.3f}"
    )


def demo_app(folder: Path):
    """A throw-away app on a SQLite file with the demo data and a built index."""
    from directory import create_app, demo, services
    from directory.extensions import db
    from directory.search import indexer

    app = create_app(
        {
            "SECRET_KEY": "relevance-secret-key-0123456789abcdefghij",
            "INSTANCE_PATH": str(folder),
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(folder / "relevance.sqlite3"),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "PAGE_CACHE": False,
        }
    )
    with app.app_context():
        db.create_all()
        demo.seed(150, 2026, with_images=False, log=lambda _msg: None)
        services.commit()
        indexer.rebuild(app.config["INDEX_DIR"])
    return app


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = run_all(demo_app(Path(tmp)))
    for o in outcomes:
        if not o.passed:
            print(f"FAIL {o.label!r} [{o.status}]: expected {o.expected[:5]} got {o.got[:5]}")
    print(summary(outcomes))
    sys.exit(0)


if __name__ == "__main__":
    main()
