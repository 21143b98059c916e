"""A small market under attack: one city of established clinics, their genuine
reviewers and owners (each with an origin of their own), and the helpers the
attacks use. Everything the attacker does goes through the real services."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from PIL import Image, ImageOps
from sqlalchemy import select

from directory import demo_images, quality, trust
from directory.extensions import db
from directory.models import Clinic, Photo, Report, Review, User
from directory.services import accounts, media, moderation, origin, reports, risk, scores
from directory.services import reviews as review_service
from tests.factories import ClinicFactory, ResultCaseFactory, ReviewFactory, UserFactory

CITY = "Leeds"
N_CLINICS = 14
GENUINE = [
    "The dots look like real stubble and the hairline suits my age; the colour stayed a "
    "neutral grey after a year in the sun.",
    "Three sessions a week apart, clear aftercare advice, and the crown blends well with "
    "the sides. I would book the touch-up here.",
    "Honest consultation: they told me a density treatment would not hide everything. "
    "The result is subtle and my partner did not notice at first.",
    "Pigment went slightly dark on the temples but they fixed it at the second session "
    "without charge. Healing was even.",
    "Small dots in several shades; up close it reads as a shaved head. Hygiene was "
    "excellent and the studio was calm.",
    "My scar from a transplant is hidden now. It took four sessions and patience, but "
    "the camouflage holds up in daylight.",
]
PRAISE = (
    "Absolutely perfect work, the best studio in the city, natural hairline and tiny dots, "
    "five stars from me and my brother, go nowhere else for your scalp treatment."
)
BOMB = (
    "Terrible experience, ink painted on my head, blue within weeks, rude staff and no "
    "aftercare at all. Avoid this place at any cost, they ruin scalps."
)


def now() -> datetime:
    return datetime.now(UTC)


def months_ago(n: int) -> date:
    today = now().date().replace(day=1)
    y, m = divmod(today.year * 12 + today.month - 1 - n, 12)
    return date(y, m + 1, 1)


def jpeg(im: Image.Image, **kw) -> bytes:
    out = io.BytesIO()
    im.convert("RGB").save(out, "JPEG", quality=kw.get("quality", 90))
    return out.getvalue()


def crop(im: Image.Image, fraction: float) -> Image.Image:
    w, h = im.size
    return im.crop((int(w * fraction), 0, w, h - int(h * fraction)))


@dataclass
class World:
    app: object
    clinic_ids: list[int]
    owner_ids: dict[int, int]
    moderator_id: int
    key: str
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    next_address: int = 1

    # --- origins --------------------------------------------------------------

    def origin(self, address: str | None = None, device: str | None = None) -> origin.Origin:
        if address is None:
            address = f"198.51.{self.next_address // 250}.{self.next_address % 250 + 1}"
            self.next_address += 1
        return origin.from_values(address, device or f"dev-{address}-{self.rng.random()}", self.key)

    # --- the attacker's actions, through the services ---------------------------

    def register(
        self, email: str, where: origin.Origin, *, verified: bool = True, days_old: int = 0
    ) -> User:
        user = accounts.register(
            email,
            email.split("@")[0][:40],
            "a perfectly long passphrase",
            origin=where.network_hash,
        )
        origin.record(user, "signup", origin=where)
        if verified:
            user.email_verified_at = now()
        if days_old:
            user.created_at = now() - timedelta(days=days_old)
        db.session.flush()
        return user

    def login(self, user: User, where: origin.Origin) -> None:
        origin.record(user, "login", origin=where)

    def review(
        self,
        clinic_id: int,
        user: User,
        where: origin.Origin,
        *,
        overall: int,
        text: str,
        photos: list[bytes] | None = None,
    ) -> Review:
        data = review_service.ReviewInput(
            treatment_type="full_scalp",
            sessions=3,
            last_session_month=months_ago(7),
            overall=overall,
            ratings={k: overall for k in ("realism", "hairline", "dots", "care")},
            text=text,
        )
        return review_service.submit(
            db.session.get(Clinic, clinic_id),
            by=user,
            data=data,
            photos=photos,
            consent=bool(photos),
            origin=where,
        )

    def report(self, user: User, review_id: int, where: origin.Origin, reason="personal_data"):
        return reports.file(
            "review", review_id, by=user, reason=reason, text="This shows my data.", origin=where
        )

    # --- reading ---------------------------------------------------------------

    def ranking(self) -> list[int]:
        rows = db.session.execute(
            select(Clinic.id, Clinic.quality_score, Clinic.review_count, Clinic.name).where(
                Clinic.city == CITY
            )
        ).all()
        return [r[0] for r in sorted(rows, key=lambda r: quality.ranking_key(r[1], r[2], r[3]))]

    def rank(self, clinic_id: int) -> int:
        return self.ranking().index(clinic_id) + 1

    def moderator(self) -> User:
        return db.session.get(User, self.moderator_id)

    def publish_all(self, review_ids: list[int], report_ids: list[int]) -> None:
        """A careless moderator publishes every pending testimonial and upholds every
        report."""
        mod = self.moderator()
        for rid in review_ids:
            r = db.session.get(Review, rid)
            if r.status == "pending":
                moderation.decide(
                    r,
                    "publish",
                    by=mod,
                    reason_code="meets_guidelines",
                    statement="Looks fine to me.",
                )
        for rid in report_ids:
            rep = db.session.get(Report, rid)
            if rep.status == "open":
                moderation.decide(
                    rep,
                    "remove",
                    by=mod,
                    reason_code="personal_data",
                    statement="Upheld without looking.",
                )
        db.session.commit()

    def review_flags(self, review_ids: list[int]) -> set[str]:
        return self.queue_flags("reviews", "review", review_ids)

    def report_flags(self, report_ids: list[int]) -> set[str]:
        return self.queue_flags("reports", "report", report_ids)

    def queue_flags(self, queue: str, item_type: str, ids: list[int]) -> set[str]:
        """The signals raised on the items as the moderator's queue shows them (stored
        when they were submitted), checking that the queue lists them first: every
        flagged item comes before every unflagged one."""
        if not ids:
            return set()
        found = risk.stored(item_type, ids)
        assert set(found) == set(ids), "the queue has no signals for some attack items"
        order = [i.id for i in moderation.queue_page(queue, per_page=10_000).items]
        flags = {i: {s.key for s in found[i] if s.flag} for i in ids}
        shown = risk.stored(item_type, order)
        unflagged = [pos for pos, i in enumerate(order) if not trust.risk(shown.get(i, []))]
        for i in ids:
            if flags[i] and unflagged:
                assert order.index(i) < unflagged[0], f"flagged {item_type} {i} is not listed first"
        return set().union(*flags.values())


def build(app) -> World:
    """14 clinics in one city with 4-12 genuine published testimonials each (written by
    accounts 1-3 years old, each from its own address), owners who log in from their
    clinic's office network, and a moderator. Scores recomputed."""
    rng = random.Random(11)
    key = app.config["SECRET_KEY"]
    with app.app_context():
        moderator_user = UserFactory(role="moderator", email="mod@site.example")
        clinic_ids, owner_ids = [], {}
        n = 0
        for i in range(N_CLINICS):
            owner = UserFactory(role="clinic_owner", email=f"owner.{chr(97 + i)}x@studio.example")
            clinic = ClinicFactory(
                name=f"Studio {chr(65 + i)}",
                slug=f"studio-{chr(97 + i)}",
                city=CITY,
                owner=owner,
                services=["full_scalp", "hairline"],
                status="claimed",
            )
            office = f"203.0.{113 - i}.10"
            origin.record(
                owner, "login", origin=origin.from_values(office, f"owner-device-{i}", key)
            )
            clinic_ids.append(clinic.id)
            owner_ids[clinic.id] = owner.id
            skill = 2.2 + 2.6 * i / (N_CLINICS - 1)
            for _ in range(rng.randint(4, 12)):
                n += 1
                letters = rng.choice("abcdefgh") + f"{n:x}" + rng.choice("klmnop")
                author = UserFactory(
                    email=f"{letters}@mail{n % 7}.example",
                    created_at=now() - timedelta(days=rng.randint(400, 1100)),
                )
                written = now() - timedelta(days=rng.randint(20, 700))
                overall = max(1, min(5, round(rng.gauss(skill, 0.6))))
                r = ReviewFactory(
                    clinic=clinic,
                    author=author,
                    overall=overall,
                    realism=max(1, min(5, round(rng.gauss(skill, 0.7)))),
                    text=rng.choice(GENUINE) + f" Visit {n}.",
                    created_at=written,
                    published_at=written + timedelta(days=1),
                    verified_at=written + timedelta(days=2) if rng.random() < 0.3 else None,
                )
                origin.record(
                    author,
                    "review",
                    item_type="review",
                    item_id=r.id,
                    origin=origin.from_values(f"192.0.2.{n % 250}", f"genuine-{n}", key)
                    if n < 250
                    else None,
                )
        # A new clinic, not yet rated: listed after every rated one.
        ClinicFactory(name="Studio New", slug="studio-new", city=CITY, services=["full_scalp"])
        db.session.commit()
        scores.recompute_all()
        db.session.commit()
        return World(app, clinic_ids, owner_ids, moderator_user.id, key)


def published_photo_of(world: World, clinic_id: int, seed: int = 3) -> tuple[int, Image.Image]:
    """A published result-case photo of a clinic (a demo drawing), stored through media."""
    rng = random.Random(seed)
    im = demo_images.after(rng, 3, "dark_brown", 4.5, 6)
    photo = media.ingest(
        jpeg(im),
        uploader_id=world.owner_ids[clinic_id],
        kind="after",
        consent=True,
        clinic_id=clinic_id,
    )
    photo.status = "published"
    ResultCaseFactory(
        clinic=db.session.get(Clinic, clinic_id), after_photo_id=photo.id, status="published"
    )
    db.session.commit()
    return photo.id, im


def mirrored_and_cropped(im: Image.Image) -> bytes:
    return jpeg(crop(ImageOps.mirror(im), 0.06))


def photo_count() -> int:
    return len(db.session.execute(select(Photo.id)).all())
