"""factory_boy factories for set-up data. The thing under test is created
through its service; these only build the world around it."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import factory
from PIL import Image, ImageDraw

from directory.extensions import db
from directory.models import Clinic, Practitioner, ResultCase, Review, User
from directory.services.passwords import hash_password

PASSWORD = "correct horse battery staple"


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"User {n}")
    role = "consumer"
    password_hash = factory.LazyFunction(password_hash)
    email_verified_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=30))
    created_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=60))


class ClinicFactory(Base):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    description = "A scalp micropigmentation studio."
    city = "London"
    region = "England"
    country = "GB"
    latitude = 51.5074
    longitude = -0.1278
    services = factory.LazyFunction(lambda: ["full_scalp", "hairline"])
    languages = factory.LazyFunction(lambda: ["English"])
    price_min = 1500
    price_max = 2500
    currency = "GBP"
    status = "listed"
    website = "https://clinic.example"


class PractitionerFactory(Base):
    class Meta:
        model = Practitioner

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Practitioner {n}")
    years_practice = 5


class ReviewFactory(Base):
    """A review row as it stands after moderation (default: published)."""

    class Meta:
        model = Review

    clinic = factory.SubFactory(ClinicFactory)
    author = factory.SubFactory(UserFactory)
    treatment_type = "full_scalp"
    sessions = 3
    last_session_month = factory.LazyFunction(lambda: date.today().replace(day=1))
    overall = 4
    text = "The result looks natural and the hairline suits my face. " * 3
    status = "published"
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))
    published_at = factory.LazyFunction(lambda: datetime.now(UTC))


class ResultCaseFactory(Base):
    class Meta:
        model = ResultCase

    clinic = factory.SubFactory(ClinicFactory)
    treatment_type = "full_scalp"
    sessions = 3
    months_since_last_session = 6
    stage = "norwood-5"
    skin_type = 3
    hair_colour = "dark_brown"
    goal = "buzz"
    consent_confirmed = True
    status = "published"


def image_bytes(fmt: str = "JPEG", size=(64, 48), seed: int = 0, **save) -> bytes:
    """A small real image in the given format, different for each seed."""
    rng = random.Random(seed)
    im = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    d = ImageDraw.Draw(im)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        d.rectangle(
            (x, y, x + rng.randrange(4, 20), y + rng.randrange(4, 20)),
            fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        )
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()
