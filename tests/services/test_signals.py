"""Trust signals over real rows: origins of owners and reviewers, linked accounts,
rivals, rings, stored near-duplicates — and the rule that nothing unmoderated moves a
score (services.signals, services.scores, services.reports)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from PIL import ImageOps

from directory import demo_images
from directory.extensions import db
from directory.models import Clinic, Review, User
from directory.services import (
    InvalidState,
    NotAllowed,
    moderation,
    origin,
    reports,
    scores,
    signals,
    similarity,
)
from directory.services import reviews as svc
from tests.adversarial.world import jpeg
from tests.factories import ClinicFactory, ReviewFactory, UserFactory, image_bytes
from tests.reviews_helpers import GOOD_TEXT, months_ago

KEY = "test-secret-key-that-is-long-enough-1234567890"


def where(address, device=None):
    return origin.from_values(address, device or f"device-{address}", KEY)


def data(overall=5, text=GOOD_TEXT):
    return svc.ReviewInput(
        treatment_type="full_scalp",
        sessions=3,
        last_session_month=months_ago(8),
        overall=overall,
        ratings={"realism": overall},
        text=text,
    )


def flags(review):
    return {s.key: s for s in signals.for_queue([review])[review.id] if s.flag}


def publish(review, mod):
    moderation.decide(
        review, "publish", by=mod, reason_code="meets_guidelines", statement="Meets the guidelines."
    )


@pytest.fixture
def market(app):
    """Two rival clinics in one city, an owner who logs in from the office, a moderator."""
    with app.app_context():
        owner = UserFactory(role="clinic_owner", email="boss@studio.example")
        a = ClinicFactory(name="Studio A", slug="studio-a", owner=owner, city="Leeds")
        b = ClinicFactory(name="Studio B", slug="studio-b", city="Leeds")
        far = ClinicFactory(name="Studio Far", slug="studio-far", city="Paris", country="FR")
        mod = UserFactory(role="moderator", email="mod@site.example")
        origin.record(owner, "login", origin=where("203.0.113.10", "owner-laptop"))
        for clinic in (a, b, far):
            for i in range(3):
                ReviewFactory(clinic=clinic, overall=4, text=f"Genuine words {clinic.id} {i} " * 5)
        db.session.commit()
        scores.recompute_all()
        db.session.commit()
        return {"owner": owner.id, "a": a.id, "b": b.id, "far": far.id, "mod": mod.id}


def test_owner_login_origin_is_compared_with_a_testimonial(app, market):
    with app.app_context():
        clinic = db.session.get(Clinic, market["a"])
        insider = UserFactory(email="receptionist.qq@freemail.example")
        r = svc.submit(clinic, by=insider, data=data(), origin=where("203.0.113.77"))
        db.session.commit()
        sig = flags(r)["shared_origin"]
        assert "owner or staff" in sig.detail and "network" in sig.detail
        puppet = UserFactory(email="someone.else.zz@freemail.example")
        r2 = svc.submit(clinic, by=puppet, data=data(), origin=where("100.64.0.1", "owner-laptop"))
        db.session.commit()
        assert "device" in flags(r2)["shared_origin"].detail


def test_network_alone_never_lowers_a_weight_but_the_owners_device_does(app, market):
    with app.app_context():
        clinic = db.session.get(Clinic, market["a"])
        mod = db.session.get(User, market["mod"])
        insider = UserFactory(email="receptionist.qq@freemail.example")
        r = svc.submit(clinic, by=insider, data=data(), origin=where("203.0.113.77"))
        puppet = UserFactory(email="someone.else.zz@freemail.example")
        r2 = svc.submit(clinic, by=puppet, data=data(), origin=where("100.64.0.1", "owner-laptop"))
        publish(r, mod)
        publish(r2, mod)
        db.session.commit()
        weights = signals.down_weights([r, r2])
        assert weights[r.id] == ()
        assert weights[r2.id] == ("coordinated",)
        assert db.session.get(Clinic, market["a"]).down_weighted == {"coordinated": 1}


def test_one_person_praising_a_clinic_and_running_down_its_rival(app, market):
    with app.app_context():
        a, b = db.session.get(Clinic, market["a"]), db.session.get(Clinic, market["b"])
        assert signals.rivals_of(a) == {b.id}  # same city, a service in common; not Paris
        first = UserFactory(email="first.aa@mail.example")
        second = UserFactory(email="second.bb@mail.example")
        praise = svc.submit(a, by=first, data=data(5), origin=where("100.64.1.1", "laptop"))
        run_down = svc.submit(
            b, by=second, data=data(1, text="Awful. " * 20), origin=where("100.64.2.2", "laptop")
        )
        db.session.commit()
        assert "rivals" in flags(praise) and "linked_accounts" in flags(praise)
        assert "rated 1" in flags(praise)["rivals"].detail
        # Symmetric: the damning one is flagged the same way.
        assert "rivals" in flags(run_down)


def test_a_ring_of_three_new_accounts_is_flagged_though_under_the_burst_threshold(app, market):
    with app.app_context():
        clinic = db.session.get(Clinic, market["b"])
        ring = []
        for i in range(3):
            u = UserFactory(email=f"ring.{'xyz'[i]}k@mail.example", created_at=datetime.now(UTC))
            ring.append(
                svc.submit(
                    clinic,
                    by=u,
                    data=data(5, text=f"Different words number {i} " * 6),
                    origin=where(f"100.70.{i}.1"),
                )
            )
        db.session.commit()
        sig = flags(ring[-1])["burst"]
        assert "2 of them from accounts under 30 days old" in sig.detail


def test_pending_and_unpublished_actions_never_change_a_published_weight(app, market):
    """A published testimonial by a young account; an attacker then posts copies of it
    from new accounts and a device shared with its author. Until a moderator publishes
    them, its weight — and every score — stays the same."""
    with app.app_context():
        clinic = db.session.get(Clinic, market["b"])
        mod = db.session.get(User, market["mod"])
        young = UserFactory(email="young.yy@mail.example", created_at=datetime.now(UTC))
        genuine = svc.submit(clinic, by=young, data=data(4), origin=where("100.80.0.1", "phone"))
        publish(genuine, mod)
        db.session.commit()
        weights = signals.down_weights([genuine])
        score = db.session.get(Clinic, market["b"]).quality_score
        for i in range(4):
            u = UserFactory(email=f"copier.{'abcd'[i]}c@mail.example", created_at=datetime.now(UTC))
            svc.submit(clinic, by=u, data=data(1), origin=where(f"100.81.{i}.1", "phone"))
        db.session.commit()
        scores.recompute_all()
        db.session.commit()
        assert signals.down_weights([genuine]) == weights
        assert db.session.get(Clinic, market["b"]).quality_score == score


def test_report_needs_a_confirmed_account_and_never_changes_a_score(app, market):
    with app.app_context():
        target = (
            db.session.execute(
                db.select(Review).where(Review.clinic_id == market["a"]).order_by(Review.id)
            )
            .scalars()
            .first()
        )
        score = db.session.get(Clinic, market["a"]).quality_score
        unconfirmed = UserFactory(email="fresh.ff@mail.example", email_verified_at=None)
        with pytest.raises(NotAllowed, match="confirm your e-mail"):
            reports.file("review", target.id, by=unconfirmed, reason="personal_data")
        reporter = UserFactory(email="rival.rr@mail.example", created_at=datetime.now(UTC))
        report = reports.file(
            "review",
            target.id,
            by=reporter,
            reason="personal_data",
            origin=where("100.90.0.1"),
        )
        db.session.commit()
        assert target.hidden_pending_report and not target.is_public
        scores.recompute_all()
        db.session.commit()
        assert db.session.get(Clinic, market["a"]).quality_score == score
        profile = reports.reporter_profiles(
            [report], {report.id: moderation.target_of("review", target.id)}
        )[report.id]
        assert profile.account_days == 0 and profile.filed == 1 and profile.upheld == 0


def test_open_reports_per_account_are_capped(app, market):
    with app.app_context():
        reporter = UserFactory(email="busy.bb@mail.example")
        b = db.session.get(Clinic, market["b"])
        ids = [ReviewFactory(clinic=b).id for _ in range(reports.MAX_OPEN_PER_ACCOUNT)]
        for rid in ids[: reports.MAX_OPEN_PER_ACCOUNT]:
            reports.file("review", rid, by=reporter, reason="fake")
        extra = ReviewFactory(clinic=db.session.get(Clinic, market["b"]))
        with pytest.raises(InvalidState, match="waiting for a moderator"):
            reports.file("review", extra.id, by=reporter, reason="fake")


def test_reporter_who_reviewed_a_rival_is_shown(app, market):
    with app.app_context():
        reporter = UserFactory(email="rival.fan.rf@mail.example")
        ReviewFactory(clinic=db.session.get(Clinic, market["b"]), author=reporter, overall=5)
        target = (
            db.session.execute(db.select(Review).where(Review.clinic_id == market["a"]))
            .scalars()
            .first()
        )
        report = reports.file("review", target.id, by=reporter, reason="fake")
        db.session.flush()
        profile = reports.reporter_profiles(
            [report], {report.id: moderation.target_of("review", target.id)}
        )[report.id]
        assert profile.reviewed_rivals == 1


def test_a_stolen_photo_is_matched_mirrored_and_cropped_and_lowers_the_weight(app, market):
    with app.app_context():
        a, b = db.session.get(Clinic, market["a"]), db.session.get(Clinic, market["b"])
        mod = db.session.get(User, market["mod"])
        im = demo_images.after(random.Random(5), 3, "dark_brown", 4.5, 6)
        w, h = im.size
        stolen = ImageOps.mirror(im).crop((int(w * 0.06), 0, w, h - int(h * 0.06)))
        honest = UserFactory(email="honest.hh@mail.example")
        original = svc.submit(a, by=honest, data=data(5), photos=[jpeg(im)], consent=True)
        publish(original, mod)
        thief = UserFactory(email="thief.tt@mail.example")
        copy = svc.submit(b, by=thief, data=data(5), photos=[jpeg(stolen)], consent=True)
        db.session.commit()
        sig = flags(copy)["photo_match"]
        assert f"#{original.photos[0].id}" in sig.detail and "mirrored+cropped" in sig.detail
        assert [m.id for m in moderation.photo_matches(copy.photos[0])] == [original.photos[0].id]
        publish(copy, mod)
        db.session.commit()
        assert signals.down_weights([copy])[copy.id] == ("photo matches another",)
        assert signals.down_weights([original])[original.id] == ()  # the original keeps its bonus
        assert db.session.get(Clinic, market["b"]).down_weighted == {"photo matches another": 1}


def test_look_alike_demo_drawings_do_not_match_each_other(app, market):
    """Ten different drawings of scalps (same layout, different dots and colours) are
    uploaded; none matches another, while a re-upload matches its original only."""
    with app.app_context():
        clinic = db.session.get(Clinic, market["a"])
        rng = random.Random(2026)
        drawings = [
            demo_images.after(rng, rng.randint(1, 6), rng.choice(list(demo_images.HAIR)), s, 6)
            for s in (1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 3.2, 4.2)
        ]
        photos = []
        for i, im in enumerate(drawings):
            u = UserFactory(email=f"drawer.{chr(97 + i)}d@mail.example")
            photos += svc.submit(
                clinic if i % 2 else db.session.get(Clinic, market["b"]),
                by=u,
                data=data(4, text=f"Words of person {i} " * 6),
                photos=[jpeg(im)],
                consent=True,
            ).photos
        db.session.commit()
        assert all(moderation.photo_matches(p) == [] for p in photos)
        again = svc.submit(
            db.session.get(Clinic, market["far"]),
            by=UserFactory(email="again.ag@mail.example"),
            data=data(4),
            photos=[jpeg(drawings[3], quality=75)],
            consent=True,
        )
        db.session.commit()
        assert [m.id for m in moderation.photo_matches(again.photos[0])] == [photos[3].id]


def test_flat_graphics_match_only_near_identical_copies(app, market):
    with app.app_context():
        clinic = db.session.get(Clinic, market["a"])
        first = svc.submit(
            clinic,
            by=UserFactory(email="flat.one@mail.example"),
            data=data(4),
            photos=[image_bytes(seed=9, size=(200, 160))],
            consent=True,
        )
        other = svc.submit(
            clinic,
            by=UserFactory(email="flat.two@mail.example"),
            data=data(4, text="Another text entirely " * 5),
            photos=[image_bytes(seed=10, size=(200, 160))],
            consent=True,
        )
        db.session.commit()
        assert moderation.photo_matches(other.photos[0]) == []
        assert first.photos[0].phash_mirror and first.photos[0].colour_print


def test_near_duplicate_text_across_testimonials_results_and_descriptions(app, market):
    with app.app_context():
        a = db.session.get(Clinic, market["a"])
        a.description = (
            "We layer three shades of pigment so the result has depth, and every client "
            "gets a patch test and a consultation about the hairline before we start."
        )
        similarity.index_text("clinic", a.id, a.description)
        words = a.description.split()
        edited = " ".join("truly" if i % 6 == 0 else w for i, w in enumerate(words))
        sentences = edited.split(", ")
        text = ", ".join(reversed(sentences))
        r = svc.submit(
            db.session.get(Clinic, market["b"]),
            by=UserFactory(email="copier.cp@mail.example"),
            data=data(5, text=text),
        )
        db.session.commit()
        sig = flags(r)["near_duplicate"]
        assert f"clinic description #{a.id}" in sig.detail and "another clinic" in sig.detail
        unrelated = svc.submit(
            db.session.get(Clinic, market["b"]),
            by=UserFactory(email="plain.pl@mail.example"),
            data=data(5, text="My crown took four sessions and the colour held well. " * 2),
        )
        db.session.commit()
        assert "near_duplicate" not in flags(unrelated)


def test_demo_reviewers_are_not_linked_to_each_other(app):
    from directory import demo

    with app.app_context():
        demo.seed(6, 2026, with_images=False, log=lambda *_: None)
        db.session.commit()
        reviewers = (
            db.session.execute(db.select(User.id).where(User.role == "consumer").limit(40))
            .scalars()
            .all()
        )
        links = signals.linked_accounts(reviewers)
        assert all(not v for v in links.values())
        owner = db.session.execute(
            db.select(User).where(User.email == "owner@example.com")
        ).scalar_one()
        assert owner.signup_origin  # seeded owners have an origin now


def test_email_pattern_links_accounts_but_is_weak():
    assert signals.email_key("John.Smith+promo@Mail.example") == "johnsmith@mail.example"
    assert signals.email_key("johnsmith82@mail.example") == "johnsmith@mail.example"
    assert signals.email_key("jo1@mail.example") is None
