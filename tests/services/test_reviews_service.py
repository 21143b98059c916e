"""Writing testimonials and follow-ups through services.reviews."""

from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic, ClinicClaim, FollowUp, Photo, Review, User
from directory.services import Invalid, InvalidState, NotAllowed, accounts, media, scores
from directory.services import reviews as svc
from tests.factories import ClinicFactory, ReviewFactory, UserFactory, image_bytes
from tests.reviews_helpers import GOOD_TEXT, make_world, months_ago


@pytest.fixture
def world(app):
    return make_world(app)


def data(**over) -> svc.ReviewInput:
    base = dict(
        treatment_type="full_scalp",
        sessions=3,
        last_session_month=months_ago(8),
        overall=4,
        text=GOOD_TEXT,
        ratings={"realism": 4, "healing": 3},
    )
    base.update(over)
    return svc.ReviewInput(**base)


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_submit_stages_a_pending_review_with_photos_and_no_score_change(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        clinic = db.session.get(Clinic, world.clinic_id)
        r = svc.submit(
            clinic, by=author, data=data(), photos=[image_bytes(seed=1)], consent=True, origin="abc"
        )
        db.session.commit()
        assert r.status == "pending" and r.origin_hash == "abc"
        assert [p.status for p in r.photos] == ["pending"]
        assert db.session.get(Clinic, world.clinic_id).quality_score is None


def test_unverified_user_cannot_review(app, world):
    with app.app_context():
        user = db.session.get(User, world.unverified_id)
        with pytest.raises(NotAllowed, match="confirm your e-mail"):
            svc.submit(db.session.get(Clinic, world.clinic_id), by=user, data=data())


@pytest.mark.parametrize("who", ["owner", "claimant", "domain", "subdomain", "approved_claim"])
def test_people_linked_to_the_clinic_cannot_review_it(app, world, who):
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_id)
        if who == "owner":
            user = db.session.get(User, world.owner_id)
        elif who in ("claimant", "approved_claim"):
            user = UserFactory()
            db.session.add(
                ClinicClaim(
                    clinic_id=clinic.id,
                    user_id=user.id,
                    role_at_clinic="x",
                    status="pending" if who == "claimant" else "approved",
                )
            )
        elif who == "domain":
            user = UserFactory(email="staff@studio-smp.co.uk")
        else:
            user = UserFactory(email="staff@mail.studio-smp.co.uk")
        with pytest.raises(NotAllowed):
            svc.submit(clinic, by=user, data=data())
        db.session.rollback()
        assert count(Review) == 0


def test_free_mail_domain_shared_with_clinic_email_is_not_a_link(app, world):
    with app.app_context():
        clinic = ClinicFactory(email="studio@gmail.com", website=None)
        user = UserFactory(email="someone@gmail.com")
        assert svc.linked_to_clinic(user, clinic) is None


def test_rejected_claim_does_not_block(app, world):
    with app.app_context():
        user = UserFactory()
        db.session.add(
            ClinicClaim(
                clinic_id=world.clinic_id, user_id=user.id, role_at_clinic="x", status="rejected"
            )
        )
        db.session.commit()
        assert svc.linked_to_clinic(user, db.session.get(Clinic, world.clinic_id)) is None


def test_second_review_of_same_clinic_is_refused_with_followup_hint(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        clinic = db.session.get(Clinic, world.clinic_id)
        svc.submit(clinic, by=author, data=data())
        db.session.commit()
        with pytest.raises(svc.DuplicateReview, match="follow-up"):
            svc.submit(clinic, by=author, data=data())


@pytest.mark.parametrize(
    "change,message",
    [
        ({"treatment_type": "tattoo"}, "treatment"),
        ({"sessions": 0}, "sessions"),
        ({"sessions": 31}, "sessions"),
        ({"last_session_month": months_ago(-1)}, "future"),
        ({"last_session_month": date(2020, 1, 15)}, "month"),
        ({"overall": None}, "overall"),
        ({"overall": 6}, "1 to 5"),
        ({"ratings": {"care": 0}}, "1 to 5"),
        ({"ratings": {"healing": 4}, "last_session_month": months_ago(5)}, "Healing"),
        ({"text": "too short"}, "between 80"),
        ({"text": "x" * 5001}, "between 80"),
        ({"price_paid": -1, "price_currency": "GBP"}, "price"),
        ({"price_paid": 100, "price_currency": "XXX"}, "currency"),
        ({"practitioner_id": 999}, "practitioners"),
    ],
)
def test_invalid_review_input_is_refused(app, world, change, message):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        with pytest.raises(Invalid, match=message):
            svc.submit(db.session.get(Clinic, world.clinic_id), by=author, data=data(**change))
        db.session.rollback()
        assert count(Review) == 0


def test_healing_allowed_exactly_six_months_after(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        r = svc.submit(
            db.session.get(Clinic, world.clinic_id),
            by=author,
            data=data(last_session_month=months_ago(6), ratings={"healing": 5}),
        )
        assert r.healing == 5


def test_retired_or_foreign_practitioner_refused(app, world):
    from directory.models import Practitioner
    from tests.factories import PractitionerFactory

    with app.app_context():
        other = PractitionerFactory()
        author = db.session.get(User, world.author_id)
        with pytest.raises(Invalid):
            svc.submit(
                db.session.get(Clinic, world.clinic_id),
                by=author,
                data=data(practitioner_id=other.id),
            )
        db.session.rollback()
        p = db.session.get(Practitioner, world.practitioner_id)
        r = svc.submit(
            db.session.get(Clinic, world.clinic_id), by=author, data=data(practitioner_id=p.id)
        )
        assert r.practitioner_id == p.id


def test_photos_need_consent_and_at_most_six(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        clinic = db.session.get(Clinic, world.clinic_id)
        with pytest.raises(Invalid, match="agreed"):
            svc.submit(clinic, by=author, data=data(), photos=[image_bytes()], consent=False)
        db.session.rollback()
        with pytest.raises(Invalid, match="at most 6"):
            svc.submit(
                clinic,
                by=author,
                data=data(),
                photos=[image_bytes(seed=i) for i in range(7)],
                consent=True,
            )
        db.session.rollback()
        assert count(Review) == 0 and count(Photo) == 0


def test_a_bad_photo_rolls_back_review_and_earlier_photo_files(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        clinic = db.session.get(Clinic, world.clinic_id)
        with pytest.raises(media.InvalidUpload):
            svc.submit(
                clinic,
                by=author,
                data=data(),
                photos=[image_bytes(seed=1), b"<html>nope</html>"],
                consent=True,
            )
        db.session.rollback()
        assert count(Review) == 0 and count(Photo) == 0
        folder = app.config["MEDIA_DIR"]
        assert not os.path.exists(folder) or os.listdir(folder) == []


def test_the_account_page_lists_every_status(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        ReviewFactory(author=author, status="rejected")
        ReviewFactory(author=author, status="published")
        svc.submit(db.session.get(Clinic, world.clinic_id), by=author, data=data())
        db.session.commit()
        assert sorted(r.status for r in accounts.overview(author).reviews) == [
            "pending",
            "published",
            "rejected",
        ]
        other = db.session.get(User, world.other_id)
        assert accounts.overview(other).reviews == []


def test_followup_rules(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        other = db.session.get(User, world.other_id)
        clinic = db.session.get(Clinic, world.clinic_id)
        fresh = ReviewFactory(author=author, clinic=clinic, last_session_month=months_ago(2))
        with pytest.raises(InvalidState, match="6 months"):
            svc.add_followup(fresh, by=author, text="It has held up well so far.")
        fresh.last_session_month = months_ago(7)
        with pytest.raises(NotAllowed):
            svc.add_followup(fresh, by=other, text="It has held up well so far.")
        with pytest.raises(Invalid):
            svc.add_followup(fresh, by=author, text="short")
        fu = svc.add_followup(fresh, by=author, text="It has held up well so far.", healing=5)
        assert fu.status == "pending"
        with pytest.raises(InvalidState, match="waiting"):
            svc.add_followup(fresh, by=author, text="Another update on the result.")
        db.session.commit()
        assert count(FollowUp) == 1


def test_followup_on_unpublished_review_refused(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        r = ReviewFactory(author=author, status="pending", last_session_month=months_ago(9))
        with pytest.raises(InvalidState, match="published"):
            svc.add_followup(r, by=author, text="It has held up well so far.")


def test_delete_removes_rows_files_and_recomputes(app, world):
    with app.app_context():
        author = db.session.get(User, world.author_id)
        clinic = db.session.get(Clinic, world.clinic_id)
        r = svc.submit(clinic, by=author, data=data(), photos=[image_bytes(seed=3)], consent=True)
        r.status = "published"
        r.photos[0].status = "published"
        scores.recompute_clinic(clinic)
        db.session.commit()
        assert clinic.quality_score is not None
        files = [media.file_path(r.photos[0], s) for s in ("web", "thumb")]
        assert all(os.path.exists(f) for f in files)
        svc.delete(r, by=db.session.get(User, world.author_id))
        db.session.commit()
        assert count(Review) == 0 and count(Photo) == 0
        assert not any(os.path.exists(f) for f in files)
        assert db.session.get(Clinic, world.clinic_id).quality_score is None


def test_only_the_author_can_delete(app, world):
    with app.app_context():
        r = ReviewFactory(author=db.session.get(User, world.author_id))
        with pytest.raises(NotAllowed):
            svc.delete(r, by=db.session.get(User, world.other_id))
