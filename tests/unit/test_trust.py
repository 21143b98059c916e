"""trust.py: moderation signals over plain data, and their independence from the rating."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from directory import textprint, trust

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TEXT = "The hairline looks natural and the dots are the right size for my skin tone."


def facts(**over) -> trust.ItemFacts:
    base = dict(
        id=1,
        clinic_id=10,
        author_id=100,
        text=TEXT,
        created_at=NOW,
        ratings={"overall": 4},
        origin_hash="h1",
        author_created_at=NOW - timedelta(days=90),
        author_email_verified=True,
    )
    base.update(over)
    return trust.ItemFacts(**base)


def other(i, **over) -> trust.OtherReview:
    base = dict(
        id=i,
        clinic_id=10,
        author_id=200 + i,
        text=f"Unrelated words number {i} here.",
        created_at=NOW - timedelta(days=60),
        origin_hash=f"x{i}",
    )
    base.update(over)
    return trust.OtherReview(**base)


def flags(item, others=()):
    return {s.key for s in trust.signals(item, list(others), NOW) if s.flag}


def test_trust_imports_no_flask_and_no_database():
    tree = ast.parse(inspect.getsource(trust))
    names = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    names |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert not names & {"flask", "sqlalchemy", "directory", "flask_sqlalchemy"}


def test_quiet_item_raises_no_flag():
    assert flags(facts(), [other(2), other(3)]) == set()
    assert not trust.needs_attention(trust.signals(facts(), [], NOW))


def test_every_signal_is_listed():
    keys = [s.key for s in trust.signals(facts(), [], NOW)]
    assert keys == [
        "account_age",
        "email_verified",
        "author_reviews",
        "near_duplicate",
        "burst",
        "shared_origin",
        "linked_accounts",
        "rivals",
        "uniform_extreme",
        "photo_match",
    ]


def test_new_account_and_unverified_email_flag():
    assert "account_age" in flags(facts(author_created_at=NOW - timedelta(days=2)))
    assert "email_verified" in flags(facts(author_email_verified=False))
    assert "account_age" in flags(facts(author_created_at=None))


def test_authors_other_reviews_are_counted():
    sigs = {
        s.key: s
        for s in trust.signals(
            facts(), [other(2, author_id=100), other(3, author_id=100, clinic_id=11)], NOW
        )
    }
    assert sigs["author_reviews"].detail == "2"


def test_near_duplicate_text_is_caught_even_with_small_edits():
    edited = TEXT.replace("natural", "very natural").upper()
    assert textprint.similarity(TEXT, edited) == 1.0
    assert set(textprint.band_keys(TEXT)) == set(textprint.band_keys(edited))  # a candidate
    unlike = "Completely different words about another clinic entirely."
    assert textprint.similarity(TEXT, unlike) < textprint.NEAR_DUPLICATE
    # The queue reads the stored matches (services.similarity) as Duplicate facts.
    dup = trust.Duplicate("review", 2, 0.91, clinic_id=99, author_id=202)
    assert "near_duplicate" in flags(facts(duplicates=(dup,)))


def test_jaccard_and_features():
    a = trust.features("The dots, the hairline and the colours")
    assert a == {"dot", "hairline", "colour"}
    assert trust.jaccard(a, a) == 1.0
    assert trust.jaccard(a, frozenset()) == 0.0
    assert trust.features("") == frozenset()


def test_burst_of_reviews_for_one_clinic():
    near = [other(i, created_at=NOW - timedelta(hours=i)) for i in range(2, 5)]
    assert "burst" in flags(facts(), near)
    assert "burst" not in flags(facts(), near[:2])
    assert "burst" not in flags(
        facts(), [other(i, created_at=NOW - timedelta(hours=i), clinic_id=11) for i in range(2, 6)]
    )


def test_shared_origin_with_reviewers_or_owner():
    assert "shared_origin" in flags(facts(), [other(2, origin_hash="h1")])
    assert "shared_origin" in flags(facts(owner_signup_origin="h1"))
    assert "shared_origin" not in flags(facts(), [other(2, origin_hash="h1", clinic_id=11)])
    assert "shared_origin" not in flags(facts(origin_hash=None, owner_signup_origin=None))


def test_uniform_extreme_ratings_with_short_text():
    short = "Great place!" * 3
    for v in (1, 5):
        assert "uniform_extreme" in flags(facts(text=short, ratings={"overall": v, "care": v}))
    assert "uniform_extreme" not in flags(facts(text=short, ratings={"overall": 5, "care": 4}))
    assert "uniform_extreme" not in flags(facts(text="x" * 300, ratings={"overall": 5}))
    assert "uniform_extreme" not in flags(facts(text=short, ratings={"overall": 3}))


def test_matching_photos_flag():
    assert "photo_match" in flags(facts(matching_photos=2))


ratings_st = st.dictionaries(
    st.sampled_from(["overall", "realism", "hairline", "pigment", "dots", "healing", "care"]),
    st.integers(1, 5),
    min_size=1,
)
others_st = st.lists(
    st.builds(
        trust.OtherReview,
        id=st.integers(2, 50),
        clinic_id=st.sampled_from([10, 11]),
        author_id=st.one_of(st.none(), st.integers(100, 105)),
        text=st.sampled_from(
            [
                TEXT,
                "Short one.",
                TEXT + " Extra words at the end of it.",
                "Something else entirely about the care and hygiene.",
            ]
        ),
        created_at=st.integers(0, 400).map(lambda h: NOW - timedelta(hours=h)),
        origin_hash=st.sampled_from([None, "h1", "h2"]),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=400),
    others=others_st,
    ratings=ratings_st,
    age_days=st.integers(0, 400),
    verified=st.booleans(),
    owner_origin=st.sampled_from([None, "h1", "h3"]),
    matches=st.integers(0, 3),
)
def test_automatic_treatment_does_not_depend_on_the_rating(
    text, others, ratings, age_days, verified, owner_origin, matches
):
    """docs/security.md §34: the same text rated 1 everywhere and 5 everywhere, and any rating
    mirrored (r -> 6 - r), get exactly the same signals and the same automatic treatment."""

    def treat(rs):
        item = facts(
            text=text,
            ratings=rs,
            author_created_at=NOW - timedelta(days=age_days),
            author_email_verified=verified,
            owner_signup_origin=owner_origin,
            matching_photos=matches,
        )
        sigs = trust.signals(item, others, NOW)
        return sigs, trust.needs_attention(sigs)

    ones = {k: 1 for k in ratings}
    fives = {k: 5 for k in ratings}
    assert treat(ones) == treat(fives)
    assert treat(ratings) == treat({k: 6 - v for k, v in ratings.items()})
