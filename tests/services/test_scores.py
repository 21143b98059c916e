"""Cached figures are recomputed from published reviews only; price never counts."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from directory.extensions import db
from directory.models import Clinic, Review, SearchOutbox
from directory.services import clinics as clinic_service
from directory.services import scores
from tests.factories import ClinicFactory, PractitionerFactory, ReviewFactory, UserFactory


def test_recompute_writes_cached_figures_and_marks_search_dirty(app):
    with app.app_context():
        clinic = ClinicFactory()
        ReviewFactory(clinic=clinic, overall=5, realism=4, hairline=5)
        scores.recompute_clinic(clinic)
        db.session.commit()
        assert clinic.quality_score == pytest.approx(14.82 / 4.6, abs=1e-3)
        assert clinic.review_count == 1
        assert db.session.query(SearchOutbox).filter_by(clinic_id=clinic.id).count() == 1


@pytest.mark.parametrize("status", ["pending", "rejected", "removed"])
def test_unpublished_reviews_never_touch_the_score(app, status):
    with app.app_context():
        clinic = ClinicFactory()
        ReviewFactory(clinic=clinic, overall=4)
        scores.recompute_clinic(clinic)
        before = clinic.quality_score
        ReviewFactory(clinic=clinic, overall=1, status=status, needed_correction=True)
        scores.recompute_clinic(clinic)
        assert clinic.quality_score == before
        assert clinic.review_count == 1


def test_review_hidden_by_a_report_leaves_the_score_until_decided(app):
    with app.app_context():
        clinic = ClinicFactory()
        r = ReviewFactory(clinic=clinic, overall=1)
        scores.recompute_clinic(clinic)
        assert clinic.quality_score is not None
        before = clinic.quality_score
        r.hidden_pending_report = True  # hidden from the public while a report is examined
        scores.recompute_clinic(clinic)
        assert clinic.quality_score == before  # only a moderator's decision changes it


def test_practitioner_gets_the_score_of_reviews_naming_them(app):
    with app.app_context():
        p = PractitionerFactory()
        other = PractitionerFactory(clinic=p.clinic)
        ReviewFactory(clinic=p.clinic, practitioner=p, overall=5)
        ReviewFactory(clinic=p.clinic, overall=2)
        scores.recompute_clinic(p.clinic)
        assert p.quality_score == pytest.approx((12 + 0.6 * 5) / 4.6, abs=1e-3)
        assert p.review_count == 1
        assert other.quality_score is None


def test_published_followup_updates_healing_and_can_report_correction(app):
    from directory.models import FollowUp

    with app.app_context():
        clinic = ClinicFactory()
        r = ReviewFactory(clinic=clinic, overall=5, healing=5)
        scores.recompute_clinic(clinic)
        high = clinic.quality_score
        db.session.add(FollowUp(review_id=r.id, healing=1, text="Faded.", status="published"))
        scores.recompute_clinic(clinic)
        assert clinic.quality_score < high
        db.session.add(
            FollowUp(review_id=r.id, needed_correction=True, text="Laser now.", status="published")
        )
        scores.recompute_clinic(clinic)
        assert clinic.correction_count == 1
        assert clinic.quality_score == pytest.approx((12 + 0.6 * 1) / 4.6, abs=1e-3)


def _order():
    public = select(Clinic).where(clinic_service.is_public_clinic())
    return [(c.id, c.quality_score) for c in clinic_service.best_first(public, 100)]


clinic_spec = st.tuples(
    st.integers(100, 10_000),  # price_min
    st.lists(
        st.tuples(
            st.integers(1, 5),
            st.integers(1, 5),
            st.booleans(),
            st.one_of(st.none(), st.integers(50, 20_000)),
        ),
        max_size=5,
    ),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(clinic_spec, min_size=2, max_size=6), st.randoms(use_true_random=False))
def test_no_price_change_ever_changes_any_score_or_order(app, specs, rnd):
    with app.app_context():
        db.session.query(Review).delete()
        db.session.query(Clinic).delete()
        author = UserFactory()
        for i, (price, reviews) in enumerate(specs):
            c = ClinicFactory(price_min=price, price_max=price + 500)
            for j, (overall, realism, corrected, paid) in enumerate(reviews):
                ReviewFactory(
                    clinic=c,
                    author=author if j == 0 and i == 0 else UserFactory(),
                    overall=overall,
                    realism=realism,
                    needed_correction=corrected,
                    price_paid=paid,
                    created_at=datetime.now(UTC) - timedelta(days=j),
                )
        now = datetime.now(UTC)
        scores.recompute_all(now)
        db.session.commit()
        before = _order()
        for c in db.session.query(Clinic):
            c.price_min = rnd.randint(1, 50_000)
            c.price_max = c.price_min + rnd.randint(0, 9_000)
        for r in db.session.query(Review):
            r.price_paid = rnd.choice([None, rnd.randint(1, 90_000)])
        scores.recompute_all(now)
        db.session.commit()
        assert _order() == before


def test_cached_explanation_matches_the_live_one(app):
    with app.app_context():
        clinic = ClinicFactory()
        ReviewFactory(
            clinic=clinic, overall=5, realism=4, hairline=5, verified_at=datetime.now(UTC)
        )
        ReviewFactory(clinic=clinic, overall=2, pigment=1, needed_correction=True)
        live = scores.recompute_clinic(clinic)
        db.session.commit()
        assert scores.cached_explanation(clinic) == live


def test_recompute_scores_command_refreshes_every_clinic(app, runner):
    with app.app_context():
        clinic = ClinicFactory()
        ReviewFactory(clinic=clinic, overall=5)
        db.session.commit()
        assert clinic.quality_score is None  # written without the service
    result = runner.invoke(args=["recompute-scores"])
    assert result.exit_code == 0 and "Recomputed 1 clinics" in result.output
    with app.app_context():
        assert db.session.get(Clinic, clinic.id).quality_score == pytest.approx(15 / 4.6, abs=1e-3)
