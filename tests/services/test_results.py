"""Result cases: submitted by the owner with photos, published or rejected by a moderator."""

import os

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic, ModerationDecision, Photo, ResultCase, User
from directory.services import Invalid, InvalidState, NotAllowed, media, results
from tests.factories import ClinicFactory, PractitionerFactory, UserFactory, image_bytes
from tests.web._mail import texts

REASON = dict(reason_code="meets_guidelines", statement="Consent and photos checked.")


def case_data(**over):
    data = dict(
        before=image_bytes(seed=1),
        after=image_bytes(seed=2),
        healed=None,
        treatment_type="full_scalp",
        sessions=3,
        months_since_last_session=6,
        stage="norwood-5",
        skin_type=3,
        hair_colour="dark_brown",
        goal="buzz",
        notes="Three sessions.",
        consent=True,
    )
    data.update(over)
    return data


@pytest.fixture
def owned(app):
    with app.app_context():
        owner = UserFactory(role="clinic_owner")
        clinic = ClinicFactory(owner_id=owner.id, status="claimed")
        p = PractitionerFactory(clinic=clinic)
        return dict(owner=owner.id, clinic=clinic.id, practitioner=p.id)


def test_owner_submits_a_pending_case_with_pending_photos(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        case = results.submit(
            clinic,
            by=owner,
            **case_data(
                practitioner_id=owned["practitioner"],
                healed=image_bytes(seed=3),
                months_since_last_session=14,
            ),
        )
        db.session.commit()
        assert case.status == "pending" and case.submitted_by_id == owner.id
        photos = results.case_photos(case)
        assert [p.kind for p in photos] == ["before", "after", "healed"]
        assert all(p.status == "pending" and p.clinic_id == clinic.id for p in photos)
        assert clinic.result_count == 0
        assert case.practitioner_id == owned["practitioner"]


@pytest.mark.parametrize(
    "over",
    [
        {"stage": "norwood-9"},
        {"skin_type": 7},
        {"skin_type": "x"},
        {"hair_colour": "green"},
        {"goal": "fame"},
        {"treatment_type": "botox"},
        {"sessions": 0},
        {"sessions": 99},
        {"months_since_last_session": -1},
        {"consent": False},
        {"before": b""},
        {"after": b"<svg onload=alert(1)>"},
        {"before": b"%PDF-1.4"},
        {"healed": image_bytes(seed=5), "months_since_last_session": 3},
        {"practitioner_id": 999999},
    ],
)
def test_bad_cases_are_refused_and_leave_no_rows_or_files(app, owned, over):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        with pytest.raises(Invalid):
            results.submit(clinic, by=owner, **case_data(**over))
        db.session.rollback()
        assert db.session.execute(select(func.count()).select_from(ResultCase)).scalar_one() == 0
        assert db.session.execute(select(func.count()).select_from(Photo)).scalar_one() == 0
        folder = app.config["MEDIA_DIR"]
        assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_practitioner_of_another_clinic_or_retired_is_refused(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        elsewhere = PractitionerFactory()
        with pytest.raises(Invalid):
            results.submit(clinic, by=owner, **case_data(practitioner_id=elsewhere.id))


def test_only_the_owner_submits(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        for role in ("consumer", "clinic_owner", "moderator", "admin"):
            with pytest.raises(NotAllowed):
                results.submit(clinic, by=UserFactory(role=role), **case_data())


@pytest.fixture
def pending_case(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        case = results.submit(clinic, by=db.session.get(User, owned["owner"]), **case_data())
        db.session.commit()
        return case.id


def test_publishing_publishes_photos_counts_results_logs_and_mails(app, owned, pending_case):
    with app.app_context():
        case = db.session.get(ResultCase, pending_case)
        clinic = case.clinic
        score = clinic.quality_score
        mod = UserFactory(role="moderator")
        results.publish(case, by=mod, **REASON)
        db.session.commit()
        assert case.status == "published" and case.published_at is not None
        assert all(p.status == "published" for p in results.case_photos(case))
        assert clinic.result_count == 1 and clinic.quality_score == score
        row = db.session.execute(select(ModerationDecision)).scalar_one()
        assert (row.item_type, row.item_id, row.clinic_id, row.subject_user_id) == (
            "result_case",
            case.id,
            clinic.id,
            owned["owner"],
        )
        assert media.visible_to(case.after_photo, None)
    assert "was published" in texts(app)[0]


def test_rejecting_keeps_everything_private(app, owned, pending_case):
    with app.app_context():
        case = db.session.get(ResultCase, pending_case)
        results.reject(
            case,
            by=UserFactory(role="moderator"),
            reason_code="no_consent",
            statement="No written consent was shown.",
        )
        db.session.commit()
        assert case.status == "rejected" and case.clinic.result_count == 0
        assert not media.visible_to(case.before_photo, None)
        with pytest.raises(InvalidState):
            results.publish(case, by=UserFactory(role="moderator"), **REASON)


def test_moderators_cannot_decide_their_own_clinics_cases(app, owned, pending_case):
    with app.app_context():
        case = db.session.get(ResultCase, pending_case)
        owner = db.session.get(User, owned["owner"])
        owner.role = "moderator"
        with pytest.raises(NotAllowed):
            results.publish(case, by=owner, **REASON)
        other_mod_owner = UserFactory(role="moderator")
        case.clinic.owner_id = other_mod_owner.id
        with pytest.raises(NotAllowed):
            results.publish(case, by=other_mod_owner, **REASON)
        with pytest.raises(NotAllowed):
            results.publish(case, by=UserFactory(role="clinic_owner"), **REASON)
        assert case.status == "pending"


def test_same_photo_already_on_the_site_is_flagged(app, owned):
    with app.app_context():
        clinic = db.session.get(Clinic, owned["clinic"])
        owner = db.session.get(User, owned["owner"])
        other = ClinicFactory()
        media.ingest(
            image_bytes(seed=42, size=(200, 150)),
            uploader_id=None,
            kind="after",
            consent=True,
            clinic_id=other.id,
        )
        case = results.submit(
            clinic, by=owner, **case_data(after=image_bytes(seed=42, size=(200, 150)))
        )
        matches = results.photo_matches(case)
        assert matches[case.after_photo_id] and not matches[case.before_photo_id]
