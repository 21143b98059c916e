"""The clinic's one public reply per testimonial."""

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import ClinicReply
from directory.services import Invalid, InvalidState, NotAllowed, NotFound, replies
from tests.factories import ClinicFactory, ReviewFactory, UserFactory


@pytest.fixture
def setup(app):
    with app.app_context():
        owner = UserFactory(role="clinic_owner")
        clinic = ClinicFactory(owner_id=owner.id, status="claimed")
        review = ReviewFactory(clinic=clinic)
        return dict(owner=owner, clinic=clinic, review=review)


def count():
    return db.session.execute(select(func.count()).select_from(ClinicReply)).scalar_one()


def test_owner_replies_once_and_edits_the_same_reply(app, setup):
    with app.app_context():
        s = {k: db.session.merge(v) for k, v in setup.items()}
        first = replies.save(s["review"], by=s["owner"], text="Thank you for your trust.")
        second = replies.save(s["review"], by=s["owner"], text="Thank you, updated.")
        db.session.commit()
        assert first.id == second.id and count() == 1
        assert second.text == "Thank you, updated." and second.clinic_id == s["clinic"].id


def test_only_the_owner_may_reply(app, setup):
    with app.app_context():
        s = {k: db.session.merge(v) for k, v in setup.items()}
        for role in ("consumer", "clinic_owner", "moderator", "admin"):
            with pytest.raises(NotAllowed):
                replies.save(s["review"], by=UserFactory(role=role), text="Not mine to answer.")
        assert count() == 0


@pytest.mark.parametrize("status", ["pending", "rejected", "removed"])
def test_unpublished_testimonials_cannot_be_answered(app, setup, status):
    with app.app_context():
        s = {k: db.session.merge(v) for k, v in setup.items()}
        hidden = ReviewFactory(clinic=s["clinic"], status=status)
        with pytest.raises(InvalidState):
            replies.save(hidden, by=s["owner"], text="Hello there")
        with pytest.raises(NotFound):
            replies.review_of(s["clinic"], hidden.id)


def test_review_of_another_clinic_is_not_found(app, setup):
    with app.app_context():
        s = {k: db.session.merge(v) for k, v in setup.items()}
        elsewhere = ReviewFactory()
        with pytest.raises(NotFound):
            replies.review_of(s["clinic"], elsewhere.id)


@pytest.mark.parametrize("text", ["", " ", "x" * 3001])
def test_reply_text_is_bounded(app, setup, text):
    with app.app_context():
        s = {k: db.session.merge(v) for k, v in setup.items()}
        with pytest.raises(Invalid):
            replies.save(s["review"], by=s["owner"], text=text)
