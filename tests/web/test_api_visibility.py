"""Nothing pending, rejected, removed, hidden or of a non-public clinic is reachable
through any API operation (or the feeds), not even through a stale search index."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from directory import services
from directory.extensions import db
from directory.models import Clinic, ClinicReply, FollowUp, Photo, ResultCase, Review
from directory.search import indexer
from directory.services import scores
from tests.factories import (
    ClinicFactory,
    PractitionerFactory,
    ResultCaseFactory,
    ReviewFactory,
)

SECRET = "ZZSECRET"


def _photo(clinic, status, n, review=None, kind="review"):
    photo = Photo(
        clinic_id=clinic.id,
        review_id=review.id if review else None,
        kind=kind,
        storage_name=f"s{n}-{status}.jpg",
        thumb_name=f"t{n}-{status}.jpg",
        width=10,
        height=10,
        byte_size=10,
        phash=f"{n:016x}",
        status=status,
    )
    db.session.add(photo)
    db.session.flush()
    return photo


def build_world(app):
    """A public clinic with hidden children, and non-public clinics with public-looking
    children. Returns (public slug, hidden slugs, hidden review ids, hidden case ids,
    hidden photo ids)."""
    with app.app_context():
        shown = ClinicFactory(name="Shown Studio", slug="shown-studio")
        pract = PractitionerFactory(clinic=shown, name="Pat Shown")
        good = ReviewFactory(clinic=shown, practitioner=pract, title="Lovely result")
        hidden_reviews = [
            ReviewFactory(clinic=shown, status=s, title=f"{SECRET} {s}", text=f"{SECRET} {s} text")
            for s in ("pending", "rejected", "removed")
        ]
        reported = ReviewFactory(
            clinic=shown, title=f"{SECRET} reported", text=f"{SECRET} hidden while examined"
        )
        reported.hidden_pending_report = True
        hidden_reviews.append(reported)
        db.session.add(FollowUp(review=good, text=f"{SECRET} pending follow-up", status="pending"))
        db.session.add(
            FollowUp(review=good, text="Still looks great after a year.", status="published")
        )
        db.session.add(
            ClinicReply(review=good, clinic_id=shown.id, text=f"{SECRET} reply", status="removed")
        )
        hidden_photos = [_photo(shown, "pending", 1, review=good)]
        ResultCaseFactory(clinic=shown, title="Public case")
        hidden_cases = [
            ResultCaseFactory(clinic=shown, status=s, title=f"{SECRET} case {s}")
            for s in ("pending", "rejected", "removed")
        ]
        before = _photo(shown, "pending", 2, kind="before")
        case = ResultCaseFactory(clinic=shown, title="Case with a pending photo")
        case.before_photo_id = before.id
        hidden_photos.append(before)

        hidden_slugs = []
        for status in ("pending", "suspended", "rejected"):
            clinic = ClinicFactory(
                name=f"{SECRET} Clinic {status}",
                slug=f"secret-{status}",
                description=f"{SECRET} {status} clinic",
                status="listed",  # indexed while public; then hidden below
            )
            hidden_slugs.append(clinic.slug)
            hidden_reviews.append(ReviewFactory(clinic=clinic, text=f"{SECRET} review of {status}"))
            hidden_cases.append(ResultCaseFactory(clinic=clinic, title=f"{SECRET} case {status}"))
        db.session.commit()
        for clinic in db.session.execute(db.select(Clinic)).scalars():
            scores.recompute_clinic(clinic, datetime.now(UTC))
        services.commit()
        indexer.rebuild(app.config["INDEX_DIR"])
        # Hide the three clinics behind the index's back: the index is now stale.
        for slug in hidden_slugs:
            clinic = db.session.execute(db.select(Clinic).where(Clinic.slug == slug)).scalar_one()
            clinic.status = slug.removeprefix("secret-")
        db.session.commit()
        return (
            shown.slug,
            hidden_slugs,
            [r.id for r in hidden_reviews],
            [c.id for c in hidden_cases],
            [p.id for p in hidden_photos],
        )


def crawl(client, slugs) -> dict[str, tuple[int, str]]:
    """Every operation, every page, every filter that matters; returns url -> (status, body)."""
    seen: dict[str, tuple[int, str]] = {}

    def get(url):
        if url in seen:
            return seen[url][1]
        r = client.get(url)
        seen[url] = (r.status_code, r.get_data(as_text=True))
        return seen[url][1] if r.status_code == 200 else None

    def pages(url):
        body = get(url)
        while body:
            nxt = json.loads(body)["links"]["next"]
            if not nxt:
                break
            body = get(nxt.removeprefix("http://localhost"))

    for q in ("", SECRET, SECRET.lower(), "secret", "clinic", "studio"):
        for sort in ("quality", "reviews", "relevance"):
            pages(f"/api/v1/clinics?per_page=50&sort={sort}&q={q}")
    pages("/api/v1/clinics?place=London&radius=500&sort=distance&per_page=50")
    for args in ("country=GB", "city=London", "service=hairline", "max_price=5000"):
        pages(f"/api/v1/clinics?per_page=50&{args}")
    for q in ("Sh", SECRET[:2], "ZZ", "secret", "Clinic"):
        get(f"/api/v1/places?q={q}")
    get("/api/v1/score-method")
    get("/api/v1/transparency")
    get("/feed.atom")
    listed = set(slugs)
    for url, (status, body) in list(seen.items()):
        if status == 200 and url.startswith("/api/v1/clinics?"):
            listed.update(item["slug"] for item in json.loads(body)["items"])
    for slug in sorted(listed):
        get(f"/api/v1/clinics/{slug}")
        pages(f"/api/v1/clinics/{slug}/results?per_page=50")
        pages(f"/api/v1/clinics/{slug}/testimonials?per_page=50")
        get(f"/clinics/{slug}/feed.atom")
    with client.application.app_context():
        max_review = db.session.execute(db.select(db.func.max(Review.id))).scalar_one()
        max_case = db.session.execute(db.select(db.func.max(ResultCase.id))).scalar_one()
    for i in range(1, max_review + 2):
        get(f"/api/v1/testimonials/{i}")
    for i in range(1, max_case + 2):
        get(f"/api/v1/results/{i}")
    return seen


def test_no_hidden_item_is_reachable_through_any_operation(app):
    shown, hidden_slugs, review_ids, case_ids, photo_ids = build_world(app)
    client = app.test_client()
    seen = crawl(client, [shown, *hidden_slugs])

    for url, (status, body) in seen.items():
        if SECRET in url:  # the query is echoed back; what it found must be empty
            data = json.loads(body)
            assert data.get("items", []) == [] and data.get("suggestions", []) == [], url
        else:
            assert SECRET not in body, url
        assert status in (200, 404), (url, status)
        for photo_id in photo_ids:
            assert f"/media/{photo_id}/" not in body, (url, photo_id)
    for slug in hidden_slugs:
        assert seen[f"/api/v1/clinics/{slug}"][0] == 404
        for path in ("/results", "/testimonials"):
            assert seen[f"/api/v1/clinics/{slug}{path}?per_page=50"][0] == 404
        assert seen[f"/clinics/{slug}/feed.atom"][0] == 404
    for i in review_ids:
        assert seen[f"/api/v1/testimonials/{i}"][0] == 404, i
    for i in case_ids:
        assert seen[f"/api/v1/results/{i}"][0] == 404, i

    # The public parts are there, so the crawl did reach the data.
    clinic = json.loads(seen[f"/api/v1/clinics/{shown}"][1])
    # The score still counts the testimonial hidden while a report is examined (only a
    # moderator's decision changes a score); its content is nowhere.
    assert clinic["score"]["testimonials"] == 2
    testimonials = json.loads(seen[f"/api/v1/clinics/{shown}/testimonials?per_page=50"][1])
    assert [t["title"] for t in testimonials["items"]] == ["Lovely result"]
    assert [f["text"] for f in testimonials["items"][0]["followups"]] == [
        "Still looks great after a year."
    ]
    assert testimonials["items"][0]["reply"] is None
    assert testimonials["items"][0]["photos"] == []
    results = json.loads(seen[f"/api/v1/clinics/{shown}/results?per_page=50"][1])
    assert sorted(c["title"] for c in results["items"]) == [
        "Case with a pending photo",
        "Public case",
    ]
    search = json.loads(seen["/api/v1/clinics?per_page=50&sort=quality&q="][1])
    assert [c["slug"] for c in search["items"]] == [shown]
    assert search["total"] == 1
    figures = json.loads(seen["/api/v1/transparency"][1])
    assert figures["public_clinics"] == 1
    assert figures["published_testimonials"] == 1
    assert figures["published_results"] == 2
