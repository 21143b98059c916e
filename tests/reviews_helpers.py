"""Set-up shared by the testimonial and moderation tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from directory.extensions import db
from tests.factories import ClinicFactory, PractitionerFactory, UserFactory

GOOD_TEXT = (
    "The dots look like real stubble up close and from across the room. The hairline "
    "suits my age and the colour has stayed neutral grey without any blue shift."
)


@dataclass
class World:
    clinic_id: int
    slug: str
    practitioner_id: int
    owner_id: int
    author_id: int
    other_id: int
    moderator_id: int
    moderator2_id: int
    unverified_id: int


def make_world(app) -> World:
    with app.app_context():
        owner = UserFactory(role="clinic_owner", email="owner@studio-smp.co.uk")
        clinic = ClinicFactory(
            owner=owner,
            slug="studio",
            name="Studio SMP",
            website="https://www.studio-smp.co.uk",
            email="hi@studio-smp.co.uk",
        )
        prac = PractitionerFactory(clinic=clinic, name="Pat Practitioner")
        author = UserFactory(email="author@mail.test")
        other = UserFactory(email="other@mail.test")
        mod1 = UserFactory(role="moderator", email="mod1@site.test", display_name="Mod One")
        mod2 = UserFactory(role="moderator", email="mod2@site.test", display_name="Mod Two")
        unverified = UserFactory(email="new@mail.test", email_verified_at=None)
        db.session.commit()
        return World(
            clinic.id,
            clinic.slug,
            prac.id,
            owner.id,
            author.id,
            other.id,
            mod1.id,
            mod2.id,
            unverified.id,
        )


def months_ago(n: int) -> date:
    today = datetime.now(UTC).date().replace(day=1)
    y, m = divmod(today.year * 12 + today.month - 1 - n, 12)
    return date(y, m + 1, 1)


def form_data(**over) -> dict:
    last = over.pop("last", months_ago(8))
    data = {
        "treatment_type": "full_scalp",
        "sessions": "3",
        "last_month": str(last.month),
        "last_year": str(last.year),
        "practitioner_id": "",
        "overall": "4",
        "realism": "4",
        "healing": "4",
        "price_paid": "2000",
        "price_currency": "GBP",
        "text": GOOD_TEXT,
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def old(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
