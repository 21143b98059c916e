"""Registering clinics, editing profiles and practitioners, the view counter
and the owner's dashboard figures."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import (
    Clinic,
    ClinicChange,
    ClinicScoreMonth,
    ClinicViewDay,
    ModerationDecision,
    Report,
    SearchOutbox,
    User,
)
from directory.services import (
    Invalid,
    InvalidState,
    NotAllowed,
    counters,
    dashboard,
    moderation,
    profiles,
    replies,
    scores,
)
from tests.factories import ClinicFactory, PractitionerFactory, ReviewFactory, UserFactory
from tests.web._mail import texts

REASON = dict(reason_code="meets_guidelines", statement="Checked the clinic's website.")
NEW = dict(
    name="Dot Masters",
    city="Manchester",
    country="GB",
    services=["full_scalp"],
    website="https://dotmasters.example",
    price_min=900,
    price_max=1800,
    currency="GBP",
    languages="English, Urdu",
    year_founded=2015,
    description="We do SMP.",
)


def outbox_count(clinic_id):
    return db.session.execute(
        select(func.count()).select_from(SearchOutbox).where(SearchOutbox.clinic_id == clinic_id)
    ).scalar_one()


# ------------------------------------------------------------------ registration


def test_new_clinic_is_pending_with_coordinates_from_the_city(app):
    with app.app_context():
        user = UserFactory()
        clinic = profiles.create_clinic(by=user, data=NEW)
        assert clinic.status == "pending" and clinic.owner_id is None
        assert clinic.submitted_by_id == user.id
        assert clinic.slug == "dot-masters-manchester"
        assert clinic.latitude == pytest.approx(53.48, abs=0.1)
        assert clinic.longitude == pytest.approx(-2.24, abs=0.1)
        assert clinic.languages == ["English", "Urdu"]
        assert clinic.quality_score is None


def test_slugs_stay_unique(app):
    with app.app_context():
        user = UserFactory()
        a = profiles.create_clinic(by=user, data=NEW)
        b = profiles.create_clinic(by=user, data=NEW)
        assert a.slug != b.slug


def test_unknown_city_needs_manual_coordinates(app):
    with app.app_context():
        user = UserFactory()
        data = dict(NEW, city="Nowhereville Qzx")
        with pytest.raises(Invalid, match="latitude"):
            profiles.create_clinic(by=user, data=data)
        clinic = profiles.create_clinic(
            by=user, data=dict(data, latitude="10.5", longitude="20"), manual_coordinates=True
        )
        assert (clinic.latitude, clinic.longitude) == (10.5, 20.0)


@pytest.mark.parametrize(
    "name,city,dup",
    [
        ("Atelier Follicle", "London", True),
        ("atelier follicle", "london", True),
        ("The Atelier Follicle SMP Clinic", "London", True),
        ("Atelier Folicle", "London", True),
        ("Atelier Follicle", "Paris", False),
        ("Totally Different Ink", "London", False),
    ],
)
def test_duplicates_match_on_name_and_city(app, name, city, dup):
    with app.app_context():
        ClinicFactory(name="Atelier Follicle", city="London")
        assert bool(profiles.find_duplicates(name, city)) is dup


def test_publishing_a_new_clinic_lists_it_and_makes_the_registrant_owner(app):
    with app.app_context():
        user = UserFactory()
        clinic = profiles.create_clinic(by=user, data=NEW)
        moderation.decide(clinic, "publish", by=UserFactory(role="moderator"), **REASON)
        db.session.commit()
        assert clinic.status == "listed" and clinic.owner_id == user.id
        assert user.role == "clinic_owner"
        row = db.session.execute(select(ModerationDecision)).scalar_one()
        assert (row.item_type, row.clinic_id, row.subject_user_id) == ("clinic", clinic.id, user.id)
        assert outbox_count(clinic.id) >= 1
    assert "is now listed" in texts(app)[0]


def test_rejecting_a_new_clinic_keeps_it_hidden_with_the_reason(app):
    with app.app_context():
        user = UserFactory()
        clinic = profiles.create_clinic(by=user, data=NEW)
        moderation.decide(
            clinic,
            "reject",
            by=UserFactory(role="moderator"),
            reason_code="duplicate",
            statement="Already listed as Dot Masters.",
        )
        assert clinic.status == "rejected" and clinic.owner_id is None
        assert clinic.status_reason == "Already listed as Dot Masters."
        with pytest.raises(InvalidState):
            moderation.decide(clinic, "publish", by=UserFactory(role="moderator"), **REASON)


def test_registrant_cannot_publish_their_own_clinic(app):
    with app.app_context():
        mod = UserFactory(role="moderator")
        clinic = profiles.create_clinic(by=mod, data=NEW)
        with pytest.raises(NotAllowed):
            moderation.decide(clinic, "publish", by=mod, **REASON)
        with pytest.raises(NotAllowed):
            moderation.decide(clinic, "publish", by=UserFactory(), **REASON)
        assert clinic.status == "pending"


# ------------------------------------------------------------------ profile edits


@pytest.fixture
def owned(app):
    with app.app_context():
        owner = UserFactory(role="clinic_owner")
        clinic = ClinicFactory(owner_id=owner.id, status="claimed", slug="own")
        for _ in range(3):
            ReviewFactory(clinic=clinic, overall=5, realism=4)
        scores.recompute_clinic(clinic)
        db.session.commit()
        return dict(owner=owner.id, clinic=clinic.id)


def test_profile_edit_goes_live_keeps_history_and_never_touches_the_score(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        before = (clinic.quality_score, clinic.effective_weight, clinic.review_count)
        months = db.session.execute(select(func.count()).select_from(ClinicScoreMonth)).scalar_one()
        outbox = outbox_count(clinic.id)
        changes = profiles.update_profile(
            clinic,
            by=owner,
            data={
                "price_min": 100,
                "price_max": 99999,
                "currency": "USD",
                "description": "New words",
                "services": ["scar", "full_scalp"],
            },
        )
        db.session.commit()
        assert {c.field for c in changes} == {
            "price_min",
            "price_max",
            "currency",
            "description",
            "services",
        }
        assert clinic.price_max == 99999 and clinic.services == ["full_scalp", "scar"]
        assert (clinic.quality_score, clinic.effective_weight, clinic.review_count) == before
        assert (
            db.session.execute(select(func.count()).select_from(ClinicScoreMonth)).scalar_one()
            == months
        )
        assert outbox_count(clinic.id) == outbox + 1
        price = next(c for c in changes if c.field == "price_min")
        assert (price.old_value, price.new_value, price.user_id) == ("1500", "100", owner.id)


def test_unchanged_fields_leave_no_history(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        assert (
            profiles.update_profile(
                clinic,
                by=owner,
                data={"name": clinic.name, "city": clinic.city, "country": clinic.country},
            )
            == []
        )


def test_browser_line_breaks_are_not_a_change(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        profiles.update_profile(clinic, by=owner, data={"description": "One.\r\nTwo."})
        assert clinic.description == "One.\nTwo."
        assert profiles.update_profile(clinic, by=owner, data={"description": "One.\r\nTwo."}) == []


def test_extra_fields_change_nothing(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        score = clinic.quality_score
        profiles.update_profile(
            clinic,
            by=owner,
            data={
                "status": "verified",
                "owner_id": 999,
                "quality_score": 5.0,
                "review_count": 99,
                "verified_count": 9,
                "result_count": 50,
                "slug": "hijack",
            },
        )
        assert clinic.status == "claimed" and clinic.owner_id == owner.id
        assert clinic.quality_score == score and clinic.slug == "own"
        assert db.session.execute(select(func.count()).select_from(ClinicChange)).scalar_one() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"website": "javascript:alert(1)"},
        {"website": "ftp://x.example"},
        {"website": "//evil.example"},
        {"website": "https://"},
        {"website": "clinic.example"},
        {"website": "https://a b.example"},
        {"country": "GBR"},
        {"country": "1A"},
        {"currency": "XXX"},
        {"services": ["botox"]},
        {"price_min": 5000, "price_max": 100},
        {"price_min": -1},
        {"year_founded": 1800},
        {"email": "not-an-email"},
        {"phone": "<script>"},
        {"name": ""},
        {"city": " "},
        {"latitude": "91"},
        {"description": "x" * 5001},
    ],
)
def test_bad_profile_values_are_refused_and_nothing_changes(app, owned, data):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        snapshot = {c.name: getattr(clinic, c.name) for c in Clinic.__table__.columns}
        with pytest.raises(Invalid):
            profiles.update_profile(
                clinic, by=owner, data=data, manual_coordinates="latitude" in data
            )
        assert {c.name: getattr(clinic, c.name) for c in Clinic.__table__.columns} == snapshot


def test_moving_city_moves_the_coordinates(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        profiles.update_profile(clinic, by=owner, data={"city": "Paris", "country": "FR"})
        assert clinic.latitude == pytest.approx(48.85, abs=0.1)
        fields = {c.field for c in profiles.history(clinic)}
        assert {"city", "country", "latitude", "longitude"} <= fields


def test_only_the_owner_edits(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        for role in ("consumer", "clinic_owner", "moderator", "admin"):
            with pytest.raises(NotAllowed):
                profiles.update_profile(clinic, by=UserFactory(role=role), data={"price_min": 1})
        assert clinic.price_min == 1500


def test_practitioners_are_added_edited_and_retired_with_history(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        p = profiles.add_practitioner(
            clinic, by=owner, name="Ana Dots", years_practice=7, training="SMP academy"
        )
        profiles.update_practitioner(
            p, by=owner, name="Ana Dots", years_practice=8, training="SMP academy"
        )
        profiles.retire_practitioner(p, by=owner)
        assert p.retired_at is not None and p not in clinic.active_practitioners
        with pytest.raises(InvalidState):
            profiles.retire_practitioner(p, by=owner)
        fields = [c.field for c in profiles.history(clinic)]
        assert f"practitioner #{p.id} added" in fields
        assert f"practitioner #{p.id} years_practice" in fields
        assert f"practitioner #{p.id} retired" in fields


def test_other_users_cannot_touch_practitioners(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        p = PractitionerFactory(clinic=clinic, name="Keep Me")
        stranger = UserFactory(role="clinic_owner")
        with pytest.raises(NotAllowed):
            profiles.add_practitioner(clinic, by=stranger, name="Intruder")
        with pytest.raises(NotAllowed):
            profiles.update_practitioner(p, by=stranger, name="Renamed")
        with pytest.raises(NotAllowed):
            profiles.retire_practitioner(p, by=stranger)
        assert p.name == "Keep Me" and p.retired_at is None
        with pytest.raises(Invalid):
            profiles.add_practitioner(
                clinic, by=db.session.get(User, owned["owner"]), name="", years_practice=3
            )


# ------------------------------------------------------------------ counter and dashboard


def test_view_counter_counts_per_day_in_one_row(app, owned):
    with app.app_context():
        cid = owned["clinic"]
        for _ in range(3):
            counters.count_view(cid)
        counters.count_view(cid, day=date(2020, 1, 1))
        rows = db.session.execute(
            select(ClinicViewDay.day, ClinicViewDay.views)
            .where(ClinicViewDay.clinic_id == cid)
            .order_by(ClinicViewDay.day)
        ).all()
        assert [r.views for r in rows] == [1, 3]


def test_view_counter_never_raises(app):
    with app.app_context():
        counters.count_view(987654)  # no such clinic: the foreign key refuses it
        assert db.session.execute(select(func.count()).select_from(ClinicViewDay)).scalar_one() == 0


def test_dashboard_figures(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        today = datetime.now(UTC).date()
        cid = clinic.id
        db.session.commit()  # the counter writes on its own connection
        counters.count_view(cid)
        counters.count_view(cid, day=today - timedelta(days=29))
        counters.count_view(cid, day=today - timedelta(days=30))
        for status in ("upheld", "upheld", "dismissed", "open"):
            db.session.add(
                Report(
                    target_type="review",
                    target_id=1,
                    reason="fake",
                    by_clinic_id=clinic.id,
                    status=status,
                )
            )
        answered = db.session.execute(
            select(clinic.__class__).where(clinic.__class__.id == clinic.id)
        ).scalar_one()
        review = replies.reviews_for_owner(answered)[0]
        replies.save(review, by=owner, text="Thank you.")
        db.session.commit()
        board = dashboard.dashboard(owner)
        panel = board.panels[0]
        assert panel.clinic.id == clinic.id
        assert panel.views_30d == 2 and len(panel.views_by_day) == 30
        assert (panel.reports_filed, panel.reports_upheld) == (4, 2)
        assert len(panel.unreplied) == 2 and review not in panel.unreplied
        assert panel.score_months and panel.score_months[0].review_count == 3
        assert dashboard.dashboard(UserFactory()).panels == []
