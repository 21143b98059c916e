"""Writing a testimonial, follow-ups, reports and appeals through the web pages."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic, FollowUp, Photo, Report, Review, User
from directory.services import moderation
from tests.conftest import csrf_from, login, post_form
from tests.factories import ClinicFactory, ReviewFactory, UserFactory, image_bytes
from tests.reviews_helpers import GOOD_TEXT, form_data, make_world, months_ago


@pytest.fixture
def world(app):
    return make_world(app)


def rows(app, model=Review):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def media_status(client, path) -> int:
    resp = client.get(path)
    resp.close()  # send_file keeps the file open until the response is closed
    return resp.status_code


def url(world):
    return f"/clinics/{world.slug}/review"


def test_anonymous_is_sent_to_login_and_nothing_is_saved(client, app, world):
    resp = client.get(url(world))
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
    resp = client.post(url(world), data=form_data())
    assert resp.status_code in (302, 400)
    assert rows(app) == 0


def test_form_has_accessible_rating_groups(client, app, world):
    login(client, world.author_id)
    html = client.get(url(world)).get_data(as_text=True)
    assert html.count('<fieldset class="mb-3 rating-group"') == 7
    assert '<legend class="form-label fs-6 mb-1">How good is the result overall?' in html
    assert 'type="file"' in html and "multiple" in html
    assert "Pat Practitioner" in html
    assert 'enctype="multipart/form-data"' in html


def test_unverified_user_gets_a_clear_message(client, app, world):
    login(client, world.unverified_id)
    resp = client.get(url(world))
    assert resp.status_code == 403
    assert "confirm your e-mail" in resp.get_data(as_text=True)
    resp = client.post(url(world), data=form_data(csrf_token="x"))
    assert resp.status_code in (400, 403)
    assert rows(app) == 0


def test_owner_of_clinic_cannot_review_it(client, app, world):
    login(client, world.owner_id)
    resp = client.get(url(world))
    assert resp.status_code == 403 and "You own this clinic" in resp.get_data(as_text=True)
    assert rows(app) == 0


def test_unknown_or_hidden_clinic_is_404(client, app, world):
    login(client, world.author_id)
    with app.app_context():
        ClinicFactory(slug="hidden", status="pending")
    assert client.get("/clinics/nope/review").status_code == 404
    assert client.get("/clinics/hidden/review").status_code == 404


def test_write_with_photo_is_pending_and_visible_only_to_author(client, app, world):
    login(client, world.author_id)
    data = form_data(
        photos=(io.BytesIO(image_bytes(seed=4)), "me.jpg"),
        consent="y",
        practitioner_id=str(world.practitioner_id),
        status="published",
        verified_at="2020-01-01",
        author_id=str(world.other_id),
        quality_score="5",
    )
    resp = post_form(client, url(world), data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        r = db.session.execute(select(Review)).scalar_one()
        assert (r.status, r.author_id, r.verified_at, r.practitioner_id) == (
            "pending",
            world.author_id,
            None,
            world.practitioner_id,
        )
        assert r.origin_hash and len(r.origin_hash) == 64 and "127.0.0" not in r.origin_hash
        assert r.price_paid == 2000 and r.healing == 4
        assert [p.status for p in r.photos] == ["pending"]
        photo_id = r.photos[0].id
        assert db.session.get(Clinic, world.clinic_id).quality_score is None
    page = client.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert 'id="your-testimonial"' in page and "Your testimonial (pending)" in page
    assert "only you and moderators see this" in page
    assert media_status(client, f"/media/{photo_id}/thumb.jpg") == 200

    visitor = app.test_client()
    page = visitor.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert "your-testimonial" not in page and "real stubble up close" not in page
    assert media_status(visitor, f"/media/{photo_id}/thumb.jpg") == 404
    other = app.test_client()
    login(other, world.other_id)
    page = other.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert "real stubble up close" not in page
    assert media_status(other, f"/media/{photo_id}/web.jpg") == 404


@pytest.mark.parametrize(
    "change,message",
    [
        ({"overall": None}, "Rate the overall result"),
        ({"overall": "9"}, "Not a valid choice"),
        ({"text": "Too short."}, "Between 80 and 5,000"),
        ({"text": "y" * 5001}, "Between 80 and 5,000"),
        ({"sessions": "0"}, "Between 1 and 30"),
        ({"sessions": "many"}, "Not a valid integer"),
        ({"treatment_type": "tattoo"}, "Not a valid choice"),
        ({"last": months_ago(-2)}, "future"),
        ({"last": months_ago(3)}, "Healing can only be rated"),
        ({"price_paid": "-5"}, "between 0 and 1,000,000"),
        ({"practitioner_id": "99999"}, "Not a valid choice"),
        ({"last_year": "1800"}, "Not a valid choice"),
    ],
)
def test_bad_input_rerenders_with_message_and_400(client, app, world, change, message):
    login(client, world.author_id)
    resp = post_form(client, url(world), form_data(**change))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html
    assert GOOD_TEXT[:40] in html or "text" in change  # what was typed is kept
    assert rows(app) == 0


def test_missing_csrf_token_is_400(client, app, world):
    login(client, world.author_id)
    client.get(url(world))
    assert client.post(url(world), data=form_data()).status_code == 400
    assert rows(app) == 0


@pytest.mark.parametrize(
    "payload,name",
    [
        (b"<html><script>alert(1)</script></html>", "x.jpg"),
        (b"", "empty.png"),
        (image_bytes("GIF"), "anim.gif"),
    ],
)
def test_bad_photo_is_400_and_leaves_nothing(client, app, world, payload, name):
    login(client, world.author_id)
    data = form_data(photos=(io.BytesIO(payload), name), consent="y")
    resp = post_form(client, url(world), data, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert rows(app) == 0 and rows(app, Photo) == 0
    import os

    folder = app.config["MEDIA_DIR"]
    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_photo_without_consent_is_refused(client, app, world):
    login(client, world.author_id)
    data = form_data(photos=(io.BytesIO(image_bytes()), "a.jpg"))
    resp = post_form(client, url(world), data, content_type="multipart/form-data")
    assert resp.status_code == 400 and "agreed" in resp.get_data(as_text=True)
    assert rows(app) == 0


def test_second_testimonial_is_refused_with_follow_up_hint(client, app, world):
    login(client, world.author_id)
    assert post_form(client, url(world), form_data()).status_code == 302
    resp = client.get(url(world))
    assert resp.status_code == 409 and "follow-up" in resp.get_data(as_text=True)
    assert rows(app) == 1


def test_twenty_parallel_duplicates_make_one_row_and_no_500(app, world):
    clients = []
    for _ in range(20):
        c = app.test_client()
        login(c, world.author_id)
        clients.append((c, csrf_from(c, url(world))))
    barrier = threading.Barrier(20)
    statuses = []

    def go(c, token):
        barrier.wait()
        statuses.append(c.post(url(world), data=form_data(csrf_token=token)).status_code)

    threads = [threading.Thread(target=go, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses).count(302) == 1
    assert set(statuses) <= {302, 409}
    assert rows(app) == 1


def test_write_is_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_REVIEW="2/hour")
    world = make_world(app)
    client = app.test_client()
    login(client, world.author_id)
    codes = [post_form(client, url(world), form_data(overall=None)).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


# --- follow-ups ---------------------------------------------------------------------------


def published_review(app, world, months=8):
    with app.app_context():
        r = ReviewFactory(
            clinic=db.session.get(Clinic, world.clinic_id),
            author=db.session.get(User, world.author_id),
            last_session_month=months_ago(months),
        )
        return r.id


def test_followup_by_author(client, app, world):
    rid = published_review(app, world)
    login(client, world.author_id)
    page = client.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert f"/reviews/{rid}/followup" in page
    resp = post_form(
        client,
        f"/reviews/{rid}/followup",
        {
            "healing": "5",
            "text": "Eighteen months on, still crisp and natural.",
            "status": "published",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.execute(select(FollowUp.status)).scalar_one() == "pending"


def test_followup_refusals(client, app, world):
    rid = published_review(app, world, months=2)
    login(client, world.author_id)
    resp = post_form(
        client, f"/reviews/{rid}/followup", {"text": "Still looks fine after two months."}
    )
    assert resp.status_code == 409 and "6 months" in resp.get_data(as_text=True)
    resp = post_form(client, f"/reviews/{rid}/followup", {"text": "short"})
    assert resp.status_code == 400
    other = app.test_client()
    login(other, world.other_id)
    assert other.get(f"/reviews/{rid}/followup").status_code == 404
    assert rows(app, FollowUp) == 0


def test_author_deletes_review_others_cannot(client, app, world):
    rid = published_review(app, world)
    other = app.test_client()
    login(other, world.other_id)
    token = csrf_from(other, f"/clinics/{world.slug}/review")
    assert other.post(f"/reviews/{rid}/delete", data={"csrf_token": token}).status_code == 404
    assert rows(app) == 1
    login(client, world.author_id)
    client.get(f"/reviews/{rid}/followup")
    resp = post_form(client, f"/reviews/{rid}/delete", {}, form_url=f"/reviews/{rid}/followup")
    assert resp.status_code == 302 and rows(app) == 0


# --- reports ------------------------------------------------------------------------------


def test_report_requires_login_and_public_item(client, app, world):
    rid = published_review(app, world)
    assert client.get(f"/report/review/{rid}").status_code == 302
    login(client, world.other_id)
    assert client.get(f"/report/review/{rid}").status_code == 200
    assert client.get("/report/review/9999").status_code == 404
    assert client.get("/report/clinic/1").status_code == 404
    with app.app_context():
        pending = ReviewFactory(clinic=db.session.get(Clinic, world.clinic_id), status="pending")
        pid = pending.id
    assert client.get(f"/report/review/{pid}").status_code == 404


def test_report_hiding_reason_hides_at_once(client, app, world):
    rid = published_review(app, world)
    login(client, world.other_id)
    assert "Report this testimonial" in client.get(f"/clinics/{world.slug}").get_data(as_text=True)
    resp = post_form(
        client, f"/report/review/{rid}", {"reason": "personal_data", "text": "Names my neighbour."}
    )
    assert resp.status_code == 302
    visitor = app.test_client()
    assert GOOD_TEXT[:30] not in visitor.get(f"/clinics/{world.slug}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Review, rid).hidden_pending_report
    resp = post_form(
        client, f"/report/review/{rid}", {"reason": "nonsense"}, form_url=f"/clinics/{world.slug}"
    )
    assert resp.status_code in (400, 404)


def test_report_keeps_item_visible_for_other_reasons(client, app, world):
    with app.app_context():
        r = ReviewFactory(clinic=db.session.get(Clinic, world.clinic_id), text=GOOD_TEXT)
        rid = r.id
    login(client, world.other_id)
    assert post_form(client, f"/report/review/{rid}", {"reason": "fake"}).status_code == 302
    assert GOOD_TEXT[:30] in app.test_client().get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert rows(app, Report) == 1


def test_clinic_page_shows_reports_filed_by_the_clinic(client, app, world):
    with app.app_context():
        rid = ReviewFactory(clinic=ClinicFactory()).id
    login(client, world.owner_id)
    assert post_form(client, f"/report/review/{rid}", {"reason": "fake"}).status_code == 302
    html = app.test_client().get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert "Reports filed by this clinic: 1, upheld: 0." in html


# --- appeals ------------------------------------------------------------------------------


def test_appeal_page_and_once_only(client, app, world):
    with app.app_context():
        r = ReviewFactory(
            clinic=db.session.get(Clinic, world.clinic_id),
            author=db.session.get(User, world.author_id),
            status="pending",
        )
        moderation.decide(
            r,
            "reject",
            by=db.session.get(User, world.moderator_id),
            reason_code="spam",
            statement="Advert for a product.",
        )
        db.session.commit()
        rid = r.id
    other = app.test_client()
    login(other, world.other_id)
    assert other.get(f"/appeal/review/{rid}").status_code == 404
    login(client, world.author_id)
    page = client.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert "Your testimonial (rejected)" in page and f"/appeal/review/{rid}" in page
    html = client.get(f"/appeal/review/{rid}").get_data(as_text=True)
    assert "Advert for a product." in html
    assert post_form(client, f"/appeal/review/{rid}", {"text": "short"}).status_code == 400
    text = {"text": "This is my own experience, not an advert at all."}
    assert post_form(client, f"/appeal/review/{rid}", text).status_code == 302
    resp = post_form(client, f"/appeal/review/{rid}", text)
    assert resp.status_code == 409 and "once" in resp.get_data(as_text=True)


# --- how we rank --------------------------------------------------------------------------


def test_how_we_rank_is_public_and_explains_the_rule(client, app, world):
    resp = client.get("/how-we-rank")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Price, advertising and claiming a profile are never inputs" in html
    assert "4 × 3.0" in html and "36 months" in html
    assert "down-weighted: coordinated" in html and "provisional" in html
    assert 'id="fig-decided">0<' in html and "no decisions yet" in html
    assert html.count("<h1") == 1


def test_how_we_rank_publishes_live_figures(client, app, world):
    with app.app_context():
        mod = db.session.get(User, world.moderator_id)
        for i, action in enumerate(["publish", "publish", "reject"]):
            r = ReviewFactory(clinic=ClinicFactory(), status="pending", author=UserFactory())
            moderation.decide(
                r,
                action,
                by=mod,
                reason_code="meets_guidelines" if action == "publish" else "spam",
                statement="Checked against the rules.",
            )
        db.session.commit()
    html = client.get("/how-we-rank").get_data(as_text=True)
    assert 'id="fig-decided">3<' in html
    assert "Published</th><td>2" in html and "Rejected</th><td>1" in html
    assert "hours" in html
