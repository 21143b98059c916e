"""The trust defences through the real pages: account clusters, reporter signals,
matched photos side by side (read from storage, never compared on view), the report
form's refusals and the score explanation."""

from __future__ import annotations

import random

import pytest

from directory import demo_images, photoprint
from directory.extensions import db
from directory.models import Clinic, Photo, Review, User
from directory.services import moderation, origin, reports, scores
from directory.services import reviews as svc
from tests.adversarial.world import jpeg
from tests.conftest import login, post_form
from tests.factories import ClinicFactory, ReviewFactory, UserFactory
from tests.reviews_helpers import GOOD_TEXT, months_ago

KEY = "test-secret-key-that-is-long-enough-1234567890"


def where(address, device):
    return origin.from_values(address, device, KEY)


def data(overall, text=GOOD_TEXT):
    return svc.ReviewInput(
        treatment_type="full_scalp",
        sessions=3,
        last_session_month=months_ago(8),
        overall=overall,
        text=text,
    )


@pytest.fixture
def scene(app):
    """Two rival clinics; one person with two accounts on one laptop praises A and runs
    down B; a stolen photo waits on a published testimonial; a report is open."""
    with app.app_context():
        a = ClinicFactory(name="Studio A", slug="studio-a", city="Leeds")
        b = ClinicFactory(name="Studio B", slug="studio-b", city="Leeds")
        mod = UserFactory(role="moderator", email="mod@site.example")
        consumer = UserFactory(email="reader.rd@mail.example")
        first = UserFactory(email="first.fa@mail.example")
        second = UserFactory(email="second.sb@mail.example")
        praise = svc.submit(a, by=first, data=data(5), origin=where("100.64.1.1", "laptop"))
        run_down = svc.submit(
            b,
            by=second,
            data=data(1, text="Dreadful work and rude staff. " * 4),
            origin=where("100.64.2.2", "laptop"),
        )
        im = demo_images.after(random.Random(4), 2, "black", 4, 6)
        honest = UserFactory(email="honest.ho@mail.example")
        original = svc.submit(a, by=honest, data=data(4), photos=[jpeg(im)], consent=True)
        moderation.decide(
            original,
            "publish",
            by=mod,
            reason_code="meets_guidelines",
            statement="Meets the guidelines.",
        )
        thief = UserFactory(email="thief.th@mail.example")
        stolen = svc.submit(b, by=thief, data=data(5, text="My own result, honestly. " * 5))
        moderation.decide(
            stolen,
            "publish",
            by=mod,
            reason_code="meets_guidelines",
            statement="Meets the guidelines.",
        )
        from directory.services import media

        media.ingest(
            jpeg(im.transpose(0)),
            uploader_id=thief.id,
            kind="review",
            consent=True,
            review_id=stolen.id,
            clinic_id=b.id,
        )
        reporter = UserFactory(email="rep.rp@mail.example")
        ReviewFactory(clinic=b, author=reporter, overall=5)  # the reporter praised a rival
        report = reports.file("review", original.id, by=reporter, reason="fake")
        db.session.commit()
        return {
            "mod": mod.id,
            "consumer": consumer.id,
            "first": first.id,
            "praise": praise.id,
            "run_down": run_down.id,
            "original_photo": original.photos[0].id,
            "report": report.id,
            "a": a.id,
        }


def test_cluster_page_shows_linked_accounts_and_the_rival_pattern(client, app, scene):
    login(client, scene["mod"], mfa=True)
    html = client.get(f"/moderation/clusters/{scene['first']}").get_data(as_text=True)
    assert "2 accounts linked" in html
    assert "Praises <strong>Studio A</strong> and criticises <strong>Studio B</strong>" in html
    assert "device" in html
    index = client.get("/moderation/clusters").get_data(as_text=True)
    assert f"/moderation/clusters/{scene['first']}" in index
    queue = client.get("/moderation/reviews").get_data(as_text=True)
    assert "account cluster" in queue and "Testimonials on rival clinics" in queue


def test_cluster_pages_are_for_moderators_only(client, app, scene):
    assert client.get(f"/moderation/clusters/{scene['first']}").status_code in (302, 401)
    login(client, scene["consumer"])
    assert client.get(f"/moderation/clusters/{scene['first']}").status_code == 403
    assert client.get("/moderation/clusters").status_code == 403
    login(client, scene["mod"], mfa=True)
    assert client.get("/moderation/clusters/999999").status_code == 404
    assert client.get("/moderation/clusters/99999999999999999999").status_code == 404


def test_photo_queue_shows_the_matched_photo_side_by_side_without_comparing(
    client, app, scene, monkeypatch
):
    def no_compare(*args, **kwargs):
        raise AssertionError("photos compared on a page view")

    monkeypatch.setattr(photoprint, "detail_similarity", no_compare)
    login(client, scene["mod"], mfa=True)
    html = client.get("/moderation/photos").get_data(as_text=True)
    assert f"Matched photo {scene['original_photo']}" in html
    assert f"/media/{scene['original_photo']}/thumb.jpg" in html


def test_report_queue_shows_who_reports(client, app, scene):
    login(client, scene["mod"], mfa=True)
    html = client.get("/moderation/reports").get_data(as_text=True)
    assert 'aria-label="Reporter signals"' in html
    assert "1 report filed, 0 upheld" in html
    assert "wrote 1 testimonial on rival clinics" in html
    assert "still counted in the score" not in html  # a "fake" report hides nothing


def test_unconfirmed_account_cannot_report_through_the_form(client, app, scene):
    with app.app_context():
        target = (
            db.session.execute(
                db.select(Review.id).where(Review.status == "published").order_by(Review.id)
            )
            .scalars()
            .first()
        )
        fresh = UserFactory(email="fresh.fr@mail.example", email_verified_at=None)
        fresh_id = fresh.id
    login(client, fresh_id)
    url = f"/report/review/{target}"
    resp = post_form(client, url, {"reason": "personal_data", "text": "mine"})
    assert resp.status_code == 403
    assert "confirm your e-mail address" in resp.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(Review, target).hidden_pending_report


def test_clinic_page_explains_down_weighted_testimonials(client, app, scene):
    with app.app_context():
        mod = db.session.get(User, scene["mod"])
        for rid in (scene["praise"],):
            moderation.decide(
                db.session.get(Review, rid),
                "publish",
                by=mod,
                reason_code="meets_guidelines",
                statement="Meets the guidelines.",
            )
        db.session.commit()
        moderation.decide(
            db.session.get(Review, scene["run_down"]),
            "publish",
            by=mod,
            reason_code="meets_guidelines",
            statement="Meets the guidelines.",
        )
        db.session.commit()
        scores.recompute_clinic(db.session.get(Clinic, scene["a"]))
        db.session.commit()
    html_b = client.get("/clinics/studio-b").get_data(as_text=True)
    assert "photo matches another" not in html_b  # the stolen photo is still pending
    with app.app_context():
        mod = db.session.get(User, scene["mod"])
        stolen = db.session.execute(
            db.select(Photo).where(Photo.status == "pending", Photo.review_id.is_not(None))
        ).scalar_one()
        moderation.decide(
            stolen,
            "publish",
            by=mod,
            reason_code="meets_guidelines",
            statement="Meets the guidelines.",
        )
        db.session.commit()
    html = client.get("/clinics/studio-a").get_data(as_text=True)
    assert "1 testimonial down-weighted: coordinated" in html
    html_b = client.get("/clinics/studio-b").get_data(as_text=True)
    assert "down-weighted: photo matches another" in html_b
