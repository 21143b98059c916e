from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory import quality
from directory.quality import ReviewFacts

NOW = datetime(2026, 11, 1, tzinfo=UTC)
MONTH = timedelta(days=365.25 / 12)


def facts(overall, age_months=0.0, **kw):
    ratings = {k: kw.pop(k) for k in list(kw) if k in quality.DIMENSIONS}
    return ReviewFacts(overall=overall, written_at=NOW - age_months * MONTH, ratings=ratings, **kw)


def test_review_score_mixes_overall_with_mean_of_other_dimensions():
    assert quality.review_score(facts(5, realism=4, hairline=5)) == pytest.approx(4.7)


def test_review_score_is_overall_when_no_other_dimension_given():
    assert quality.review_score(facts(3)) == 3.0


def test_needed_correction_scores_one_whatever_the_ratings():
    assert quality.review_score(facts(5, realism=5, needed_correction=True)) == 1.0


def test_weight_unverified_fresh_review_is_point_six():
    assert quality.review_weight(facts(4), NOW) == pytest.approx(0.6)


def test_weight_verified_with_photos_halves_after_36_months():
    r = facts(4, age_months=36, verified=True, has_published_photos=True)
    assert quality.review_weight(r, NOW) == pytest.approx(1.0 * 1.25 * 0.5)


def test_worked_example_single_review():
    exp = quality.explain([facts(5, realism=4, hairline=5)], NOW)
    # (4 * 3.0 + 0.6 * 4.7) / (4 + 0.6)
    assert exp.score == pytest.approx(14.82 / 4.6, abs=1e-3)
    assert exp.effective_weight == pytest.approx(0.6)


def test_worked_example_two_reviews_with_trust_decay_and_correction():
    a = facts(3, age_months=36, verified=True, has_published_photos=True)
    b = facts(5, needed_correction=True)
    exp = quality.explain([a, b], NOW)
    # w_a = 0.625, s_a = 3; w_b = 0.6, s_b = 1
    assert exp.score == pytest.approx((12 + 0.625 * 3 + 0.6 * 1) / (4 + 1.225), abs=1e-3)
    assert exp.published == 2
    assert exp.verified == 1
    assert exp.corrections == 1


def test_no_reviews_means_not_yet_rated():
    exp = quality.explain([], NOW)
    assert exp.score is None
    assert not exp.is_rated


def test_one_five_star_review_ranks_below_forty_reviews_averaging_4_7():
    lone = quality.explain([facts(5, realism=5, hairline=5, pigment=5, dots=5, care=5)], NOW)
    many = quality.explain(
        [facts(5 if i % 10 < 7 else 4, realism=5 if i % 10 < 7 else 4) for i in range(40)], NOW
    )
    assert many.dimension_means["overall"] == pytest.approx(4.7)
    assert many.score > lone.score


def test_correction_reports_pull_the_score_down():
    good = [facts(5, realism=5) for _ in range(6)]
    with_corrections = good[:4] + [facts(5, realism=5, needed_correction=True)] * 2
    assert quality.explain(with_corrections, NOW).score < quality.explain(good, NOW).score


def test_explanation_counts_healed_results_and_dimension_means():
    rs = [
        facts(4, realism=3, last_session=date(2025, 1, 1)),
        facts(2, realism=5, last_session=date(2026, 10, 1)),
    ]
    exp = quality.explain(rs, NOW)
    assert exp.healed == 1
    assert exp.dimension_means == {"overall": 3.0, "realism": 4.0}


def test_ranking_key_puts_unrated_last_and_breaks_ties_by_review_count():
    rows = [(None, 0, "A"), (4.0, 3, "B"), (4.0, 9, "C"), (4.5, 1, "D")]
    ordered = sorted(rows, key=lambda r: quality.ranking_key(*r))
    assert [r[2] for r in ordered] == ["D", "C", "B", "A"]


ratings = st.integers(min_value=1, max_value=5)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared, busy machine
@given(
    st.lists(
        st.tuples(
            ratings,
            st.dictionaries(st.sampled_from(quality.DIMENSIONS), ratings),
            st.booleans(),
            st.booleans(),
            st.floats(0, 120),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_score_stays_between_one_and_five(rows):
    rs = [facts(o, age, verified=v, has_published_photos=p, **dims) for o, dims, v, p, age in rows]
    score = quality.explain(rs, NOW).score
    assert 1.0 <= score <= 5.0


def test_photo_matching_another_never_raises_the_weight():
    own = facts(4, has_published_photos=True)
    copied = facts(4, has_published_photos=True, down_weighted=(quality.PHOTO_COPIED,))
    plain = facts(4)
    assert quality.review_weight(own, NOW) == pytest.approx(0.6 * 1.25)
    assert quality.review_weight(copied, NOW) == pytest.approx(0.6 * 0.5)
    assert quality.review_weight(copied, NOW) < quality.review_weight(plain, NOW)


def test_coordinated_testimonials_count_a_fifth_and_the_explanation_says_so():
    rs = [facts(5, down_weighted=(quality.COORDINATED,)) for _ in range(2)] + [facts(3)]
    assert quality.review_weight(rs[0], NOW) == pytest.approx(0.6 * 0.2)
    exp = quality.explain(rs, NOW)
    assert exp.down_weighted == {"coordinated": 2}
    assert exp.down_weight_lines == ["2 testimonials down-weighted: coordinated"]


def test_one_review_cannot_lift_an_unrated_clinic_above_a_typical_established_one():
    """The prior mean is below the median of established clinics: the best possible
    single testimonial (verified, original photos, all 5) stays under 3.5."""
    best = facts(5, realism=5, hairline=5, verified=True, has_published_photos=True)
    assert quality.explain([best], NOW).score < 3.5
    established = [facts(4, realism=4) for _ in range(12)]
    assert quality.explain(established, NOW).score > quality.explain([best], NOW).score
