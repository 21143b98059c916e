"""Set-up shared by the clinic self-service tests."""

from __future__ import annotations

import pytest

from directory.extensions import db
from directory.models import Clinic
from tests.factories import ClinicFactory, UserFactory


@pytest.fixture
def world(app):
    """An owned clinic, an unowned one, and one user of each kind."""
    with app.app_context():
        owner = UserFactory(role="clinic_owner", email="owner@own-clinic.example")
        other_owner = UserFactory(role="clinic_owner")
        consumer = UserFactory()
        moderator = UserFactory(role="moderator")
        moderator2 = UserFactory(role="moderator")
        admin = UserFactory(role="admin")
        owned = ClinicFactory(
            name="Own Clinic",
            slug="own",
            owner_id=owner.id,
            status="claimed",
            website="https://own-clinic.example",
        )
        others = ClinicFactory(
            name="Other Clinic", slug="others", owner_id=other_owner.id, status="claimed"
        )
        free = ClinicFactory(name="Free Clinic", slug="free", website="https://www.free.example")
        ids = dict(
            owner=owner.id,
            other_owner=other_owner.id,
            consumer=consumer.id,
            moderator=moderator.id,
            moderator2=moderator2.id,
            admin=admin.id,
            owned=owned.id,
            others=others.id,
            free=free.id,
        )
    return ids


def clinic_row(app, clinic_id: int) -> dict:
    with app.app_context():
        c = db.session.get(Clinic, clinic_id)
        return {col.name: getattr(c, col.name) for col in Clinic.__table__.columns}
