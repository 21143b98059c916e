"""Pages with personal data send `Cache-Control: no-store`; removed photos cannot be
served from a shared cache (docs/security.md §48). The outside audit: removed photos
stayed cacheable for an hour (`public, max-age=3600`); `/account` and other
private pages sent no `Cache-Control: no-store`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
from flask import url_for
from sqlalchemy import select

from directory.extensions import db
from directory.models import Photo, Review, User
from directory.services import media
from directory.services import moderation as mod
from tests.conftest import login
from tests.factories import ClinicFactory, ReviewFactory, UserFactory, image_bytes

OWN_RULES = {"static", "bootstrap.static", "media.photo", "media.photo_webp"}
PRIVATE_BLUEPRINTS = ("account.", "auth.", "manage.", "moderation.", "admin.")


def _expunged(user):
    db.session.refresh(user)
    db.session.expunge(user)
    return user


def build_world(app) -> dict:
    with app.app_context():
        now = datetime.now(UTC)
        owner = UserFactory(role="clinic_owner")
        consumer = UserFactory()
        admin = UserFactory(role="admin", totp_secret=pyotp.random_base32(), totp_confirmed_at=now)
        moderator = UserFactory(role="moderator")
        clinic = ClinicFactory(owner=owner, status="claimed")
        review = ReviewFactory(clinic=clinic, author=consumer)
        photo = media.ingest(
            image_bytes(seed=5),
            uploader_id=consumer.id,
            kind="review",
            consent=True,
            review_id=review.id,
            clinic_id=clinic.id,
        )
        photo.status = "published"
        db.session.commit()
        return {
            "owner": _expunged(owner),
            "consumer": _expunged(consumer),
            "admin": _expunged(admin),
            "moderator_id": moderator.id,
            "slug": clinic.slug,
            "review": review.id,
            "photo": photo.id,
        }


def get_urls(app, w: dict) -> list[tuple[str, str]]:
    out = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods:
                continue
            values = {}
            for arg in rule.arguments:
                conv = rule._converters[arg]
                kind = type(conv).__name__
                if kind == "IntegerConverter":
                    values[arg] = w["photo"] if arg == "photo_id" else w["review"]
                elif kind == "AnyConverter":
                    values[arg] = sorted(conv.items)[0]
                elif kind == "PathConverter":
                    values[arg] = "css/site.css"
                else:
                    values[arg] = w["slug"]
            out.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return out


def test_every_page_a_logged_in_user_sees_and_every_private_page_is_no_store(app):
    w = build_world(app)
    urls = get_urls(app, w)
    actors = {"anonymous": app.test_client()}
    for name in ("consumer", "owner", "admin"):
        client = app.test_client()
        login(client, w[name], mfa=name == "admin")
        actors[name] = client
    checked = missing = 0
    problems = []
    for actor, client in actors.items():
        for endpoint, url in urls:
            if endpoint in OWN_RULES:
                continue
            resp = client.get(url)
            resp.close()
            must = actor != "anonymous" or endpoint.startswith(PRIVATE_BLUEPRINTS)
            if not must:
                continue
            checked += 1
            if "no-store" not in resp.headers.get("Cache-Control", ""):
                missing += 1
                problems.append(
                    (actor, endpoint, resp.status_code, resp.headers.get("Cache-Control"))
                )
        # Nothing above logged the actor out.
        if actor != "anonymous":
            assert client.get("/account").status_code == 200, actor
    print(
        f"no-store walk: {len(urls)} GET routes x {len(actors)} actors; {checked} responses "
        f"that must not be stored, {missing} without no-store"
    )
    assert problems == []
    assert checked > 100


def test_error_pages_and_redirects_of_a_logged_in_user_are_no_store(app):
    w = build_world(app)
    client = app.test_client()
    login(client, w["consumer"])
    for url in ("/no-such-page", "/moderation/", "/media/999999/web.jpg", "/auth/login"):
        resp = client.get(url)
        assert "no-store" in resp.headers["Cache-Control"], (url, resp.status_code)


def test_public_pages_for_anonymous_visitors_stay_cacheable(app):
    w = build_world(app)
    client = app.test_client()
    for url in ("/", f"/clinics/{w['slug']}", "/search/suggest?q=lo"):
        assert "no-store" not in client.get(url).headers.get("Cache-Control", ""), url


def test_a_published_photo_must_be_revalidated_by_shared_caches_and_is_gone_once_removed(app):
    w = build_world(app)
    url = f"/media/{w['photo']}/web.jpg"
    client = app.test_client()
    first = client.get(url)
    assert first.status_code == 200
    cache = first.headers["Cache-Control"]
    max_age = int(re.search(r"(?<!s-)max-age=(\d+)", cache).group(1))
    print(f"published photo: Cache-Control: {cache}; ETag {first.headers.get('ETag')}")
    assert "public" in cache and max_age <= 300
    assert "s-maxage=0" in cache and "proxy-revalidate" in cache
    etag = first.headers["ETag"]
    first.close()
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    again.close()
    # Removed by a moderator: the next revalidation gets 404, whatever the cache holds.
    with app.app_context():
        photo = db.session.get(Photo, w["photo"])
        mod.decide(
            photo,
            "reject",
            by=db.session.get(User, w["moderator_id"]),
            reason_code="no_consent",
            statement="The person shown did not agree to publication.",
        )
        db.session.commit()
    gone = client.get(url, headers={"If-None-Match": etag})
    assert gone.status_code == 404
    # The uploader still sees it, never stored anywhere.
    own = app.test_client()
    login(own, w["consumer"])
    mine = own.get(url)
    assert mine.status_code == 200
    assert mine.headers["Cache-Control"] == "private, no-store"
    mine.close()


def test_a_photo_of_a_pending_testimonial_is_private_no_store(app):
    w = build_world(app)
    with app.app_context():
        review = db.session.get(Review, w["review"])
        review.status = "pending"
        db.session.commit()
    own = app.test_client()
    login(own, w["consumer"])
    resp = own.get(f"/media/{w['photo']}/web.jpg")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"
    resp.close()
    assert app.test_client().get(f"/media/{w['photo']}/web.jpg").status_code == 404
    with app.app_context():
        assert db.session.execute(select(Photo.id)).scalar_one() == w["photo"]
