"""The like-for-like score of quality.py: hand-worked examples, price cannot enter,
one matching testimonial cannot beat many."""

import doctest
import inspect
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory import quality
from directory.quality import Case, case_score, case_similarity

NOW = datetime(2026, 11, 1, tzinfo=UTC)
LIKE_FOR_LIKE = (
    quality.stage_similarity,
    quality.skin_similarity,
    quality.hair_similarity,
    quality.case_similarity,
    quality.case_score,
    quality.case_ranking_key,
)


@pytest.mark.parametrize("fn", LIKE_FOR_LIKE, ids=lambda f: f.__name__)
def test_worked_examples_in_the_docstrings_hold(fn):
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner()
    for test in finder.find(fn, globs=vars(quality).copy()):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


def test_hand_worked_example_two_similar_testimonials():
    # (3 x 4.0 + 1 x 1.0 x 5.0 + 0.5 x 0.6 x 3.0) / (3 + 1.0 + 0.3) = 17.9 / 4.3
    cs = case_score(4.0, [(1.0, 1.0, 5.0), (0.5, 0.6, 3.0)])
    assert cs.score == pytest.approx(17.9 / 4.3, abs=1e-3)
    assert (cs.similar, cs.exact, cs.weight) == (2, 1, 1.3)


def test_hand_worked_similarity_of_a_neighbouring_case():
    me = Case(stage="norwood-5", skin_type=5, hair_colour="black", goal="buzz")
    them = Case(stage="norwood-6", skin_type=5, hair_colour="dark_brown", goal="buzz")
    assert case_similarity(me, them) == 0.5 * 1.0 * 0.5 * 1.0


def test_unknown_or_far_cases_do_not_count():
    me = Case(stage="norwood-5", goal="buzz")
    assert case_similarity(me, Case(stage="norwood-5")) == 0.0  # goal not given
    assert case_similarity(me, Case(stage="norwood-5", goal="density")) == 0.0
    assert case_similarity(me, Case(stage="ludwig-2", goal="buzz")) == 0.0


def test_no_similar_testimonial_leaves_the_overall_score():
    cs = case_score(4.2, [(0.0, 1.0, 1.0), (0.0, 0.6, 5.0)])
    assert cs.score == 4.2 and cs.similar == 0


def test_unrated_clinic_without_evidence_stays_unrated():
    assert case_score(None, []).score is None
    # Evidence without a published score cannot happen on the site, but the prior holds.
    expected = (3 * quality.PRIOR_MEAN + 5) / 4
    assert case_score(None, [(1.0, 1.0, 5.0)]).score == pytest.approx(expected, abs=1e-3)


def test_one_matching_testimonial_cannot_beat_many():
    # A: its only testimonial is a verified 5.0 of exactly the visitor's case.
    one = quality.ReviewFacts(overall=5, written_at=NOW, verified=True)
    overall_a = quality.explain([one], NOW).score
    a = case_score(overall_a, [(1.0, quality.review_weight(one, NOW), 5.0)])
    # B: twelve unverified 4.6 testimonials of the same case.
    many = [
        quality.ReviewFacts(overall=4, ratings={"realism": 5}, written_at=NOW) for _ in range(12)
    ]
    overall_b = quality.explain(many, NOW).score
    b = case_score(
        overall_b,
        [(1.0, quality.review_weight(r, NOW), quality.review_score(r)) for r in many],
    )
    assert quality.review_score(many[0]) == pytest.approx(4.6)
    assert b.score > a.score
    assert quality.case_ranking_key(b, 12, "B") < quality.case_ranking_key(a, 1, "A")


def test_more_similar_evidence_moves_the_score_further():
    few = case_score(3.5, [(1.0, 1.0, 5.0)] * 2).score
    more = case_score(3.5, [(1.0, 1.0, 5.0)] * 20).score
    assert 3.5 < few < more < 5.0


def test_no_price_can_enter_the_score():
    for fn in (*LIKE_FOR_LIKE, quality.review_score, quality.review_weight, quality.explain):
        params = inspect.signature(fn).parameters
        assert not any("price" in name or "cost" in name for name in params), fn.__name__
    fields = {f for f in quality.Case.__dataclass_fields__} | set(
        quality.ReviewFacts.__dataclass_fields__
    )
    assert not any("price" in f or "cost" in f for f in fields)


@given(
    overall=st.floats(1, 5),
    evidence=st.lists(
        st.tuples(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0.05, 1.25), st.floats(1, 5)),
        max_size=30,
    ),
)
def test_case_score_stays_between_the_overall_and_the_evidence(overall, evidence):
    cs = case_score(overall, evidence)
    counted = [s for sim, _, s in evidence if sim > 0]
    lo = min([overall, *counted])
    hi = max([overall, *counted])
    assert lo - 1e-3 <= cs.score <= hi + 1e-3
