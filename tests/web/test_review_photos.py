"""Photos through the testimonial form and the media view (docs/security.md §22, §25, §26)."""

from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic, Photo, Review, User
from directory.services import moderation
from directory.services import reviews as review_service
from tests.conftest import login, post_form
from tests.factories import image_bytes
from tests.reviews_helpers import form_data, make_world
from tests.services.test_photo_corpus import DOUBLE_EXTENSIONS, REFUSED, heic_bytes


@pytest.fixture
def world(app):
    return make_world(app)


def counts(app):
    with app.app_context():
        reviews = db.session.execute(select(func.count()).select_from(Review)).scalar_one()
        photos = db.session.execute(select(func.count()).select_from(Photo)).scalar_one()
    folder = app.config["MEDIA_DIR"]
    files = len(os.listdir(folder)) if os.path.exists(folder) else 0
    return reviews, photos, files


def upload(client, world, files):
    data = form_data(consent="y")
    data["photos"] = [(io.BytesIO(content), name) for name, content in files]
    return post_form(
        client, f"/clinics/{world.slug}/review", data, content_type="multipart/form-data"
    )


@pytest.mark.parametrize(
    "name,content", DOUBLE_EXTENSIONS + [(f"{k}.jpg", v) for k, v in sorted(REFUSED.items())]
)
def test_refused_uploads_are_400_and_leave_nothing(client, app, world, name, content):
    login(client, world.author_id)
    resp = upload(client, world, [("good.jpg", image_bytes(seed=1)), (name, content)])
    assert resp.status_code == 400
    assert (
        "JPEG, PNG, WebP" in resp.get_data(as_text=True)
        or "empty" in resp.get_data(as_text=True)
        or "could not be read" in resp.get_data(as_text=True)
    )
    assert counts(app) == (0, 0, 0)


def test_four_formats_in_one_testimonial(client, app, world):
    login(client, world.author_id)
    files = [
        ("a.jpg", image_bytes("JPEG")),
        ("b.png", image_bytes("PNG", seed=2)),
        ("c.webp", image_bytes("WEBP", seed=3)),
        ("d.heic", heic_bytes()),
        ("misnamed.gif", image_bytes("PNG", seed=5)),
    ]  # the name never decides
    assert upload(client, world, files).status_code == 302
    assert counts(app) == (1, 5, 20)  # JPEG and WebP, large and thumbnail


def test_seven_photos_are_refused(client, app, world):
    login(client, world.author_id)
    resp = upload(client, world, [(f"{i}.jpg", image_bytes(seed=i)) for i in range(7)])
    assert resp.status_code == 400 and "at most 6" in resp.get_data(as_text=True)
    assert counts(app) == (0, 0, 0)


def test_request_over_max_content_length_is_413(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=50_000)
    world = make_world(app)
    client = app.test_client()
    login(client, world.author_id)
    resp = upload(client, world, [("big.png", os.urandom(60_000))])
    assert resp.status_code == 413
    assert counts(app) == (0, 0, 0)


def fetch(client, path):
    resp = client.get(path)
    resp.close()
    return resp


def test_media_view_enforces_visibility_and_safe_headers(client, app, world):
    login(client, world.author_id)
    assert upload(client, world, [("a.jpg", image_bytes(seed=8))]).status_code == 302
    with app.app_context():
        photo_id = db.session.execute(select(Photo.id)).scalar_one()
    own = fetch(client, f"/media/{photo_id}/web.jpg")
    assert own.status_code == 200 and own.mimetype == "image/jpeg"
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in own.headers["Content-Security-Policy"]
    assert "default-src 'none'" in own.headers["Content-Security-Policy"]
    assert "no-store" in own.headers["Cache-Control"]
    moderator = app.test_client()
    login(moderator, world.moderator_id, mfa=True)
    assert fetch(moderator, f"/media/{photo_id}/thumb.jpg").status_code == 200
    for user_id in (None, world.other_id, world.owner_id):
        c = app.test_client()
        if user_id:
            login(c, user_id)
        assert fetch(c, f"/media/{photo_id}/web.jpg").status_code == 404
    assert fetch(app.test_client(), "/media/9999/web.jpg").status_code == 404
    assert fetch(app.test_client(), f"/media/{photo_id}/orig.jpg").status_code == 404
    with app.app_context():
        r = db.session.execute(select(Review)).scalar_one()
        moderation.decide(
            r,
            "publish",
            by=db.session.get(User, world.moderator_id),
            reason_code="meets_guidelines",
            statement="First-hand and on topic.",
        )
        db.session.commit()
    public = fetch(app.test_client(), f"/media/{photo_id}/web.jpg")
    assert public.status_code == 200 and "public" in public.headers["Cache-Control"]
    html = app.test_client().get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert f"/media/{photo_id}/thumb.jpg" in html


def test_deleting_a_review_removes_every_derivative(client, app, world):
    login(client, world.author_id)
    upload(client, world, [("a.jpg", image_bytes(seed=1)), ("b.png", image_bytes("PNG", seed=2))])
    assert counts(app) == (1, 2, 8)
    with app.app_context():
        rid = db.session.execute(select(Review.id)).scalar_one()
    client.get(f"/reviews/{rid}/followup")
    resp = post_form(client, f"/reviews/{rid}/delete", {}, form_url=f"/reviews/{rid}/followup")
    assert resp.status_code == 302
    assert counts(app) == (0, 0, 0)


def test_service_delete_after_rollback_keeps_files(app, world):
    """Deleting then rolling back keeps the files (they go only after the commit)."""
    with app.app_context():
        author = db.session.get(User, world.author_id)
        r = review_service.submit(
            db.session.get(Clinic, world.clinic_id),
            by=author,
            data=review_service.ReviewInput(
                treatment_type="full_scalp",
                sessions=2,
                last_session_month=__import__("datetime").date(2024, 1, 1),
                overall=3,
                text="A" * 100,
            ),
            photos=[image_bytes(seed=4)],
            consent=True,
        )
        db.session.commit()
        review_service.delete(r, by=author)
        db.session.rollback()
    assert counts(app) == (1, 1, 4)
