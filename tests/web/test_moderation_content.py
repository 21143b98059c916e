"""The moderation pages for testimonials, follow-ups, photos, reports, appeals and the log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from directory import quality
from directory.extensions import db
from directory.models import (
    Appeal,
    Clinic,
    ClinicClaim,
    FollowUp,
    ModerationDecision,
    Photo,
    Report,
    Review,
    User,
)
from directory.services import moderation, reports, scores
from directory.services import reviews as review_service
from tests.conftest import login, post_form
from tests.factories import (
    ClinicFactory,
    ResultCaseFactory,
    ReviewFactory,
    image_bytes,
)
from tests.reviews_helpers import GOOD_TEXT, make_world, months_ago


@pytest.fixture
def world(app):
    return make_world(app)


def pending_review(app, world, author_id=None, photos=None, overall=5):
    with app.app_context():
        r = review_service.submit(
            db.session.get(Clinic, world.clinic_id),
            by=db.session.get(User, author_id or world.author_id),
            data=review_service.ReviewInput(
                treatment_type="full_scalp",
                sessions=3,
                last_session_month=months_ago(9),
                overall=overall,
                text=GOOD_TEXT,
                ratings={"realism": 4},
            ),
            photos=photos,
            consent=bool(photos),
            origin="same-net",
        )
        db.session.commit()
        return r.id


DECISION = {
    "action": "publish",
    "reason_code": "meets_guidelines",
    "statement": "First-hand account, on topic.",
}


def decide(client, path, data=None, form_url="/moderation/reviews"):
    return post_form(client, path, {**DECISION, **(data or {})}, form_url=form_url)


def status_of(app, rid):
    with app.app_context():
        return db.session.get(Review, rid).status


def decision_count(app):
    with app.app_context():
        return db.session.execute(select(func.count(ModerationDecision.id))).scalar_one()


@pytest.mark.parametrize(
    "path",
    [
        "/moderation/",
        "/moderation/reviews",
        "/moderation/followups",
        "/moderation/photos",
        "/moderation/reports",
        "/moderation/appeals",
        "/moderation/log",
        "/moderation/reviews/1",
    ],
)
def test_moderation_pages_are_for_moderators_with_second_factor(client, app, world, path):
    pending_review(app, world)
    assert client.get(path).status_code == 302  # anonymous: to the login page
    login(client, world.author_id)
    assert client.get(path).status_code == 403
    login(client, world.owner_id)
    assert client.get(path).status_code == 403
    login(client, world.moderator_id, mfa=False)
    resp = client.get(path)
    assert resp.status_code == 302 and "/auth/totp" in resp.headers["Location"]
    with app.app_context():
        db.session.get(User, world.moderator_id).totp_confirmed_at = datetime.now(UTC)
        db.session.commit()
    login(client, world.moderator_id, mfa=True)
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.get_data(as_text=True).count("<h1") == 1


@pytest.mark.parametrize("who", ["anonymous", "consumer", "owner", "author"])
def test_non_moderators_cannot_decide(client, app, world, who):
    rid = pending_review(app, world)
    if who != "anonymous":
        login(
            client,
            {"consumer": world.other_id, "owner": world.owner_id, "author": world.author_id}[who],
        )
    if who == "anonymous":
        resp = client.post(f"/moderation/reviews/{rid}/decide", data=DECISION)
        assert resp.status_code in (302, 400)  # no session: no CSRF token, or to the login
    else:
        resp = decide(
            client, f"/moderation/reviews/{rid}/decide", form_url=f"/clinics/{world.slug}"
        )
        assert resp.status_code == 403
    assert status_of(app, rid) == "pending" and decision_count(app) == 0


def test_dashboard_shows_every_queue_with_size_and_age(client, app, world):
    pending_review(app, world)
    with app.app_context():
        ClinicFactory(status="pending")
        db.session.add(
            ClinicClaim(
                clinic_id=world.clinic_id,
                user_id=world.other_id,
                role_at_clinic="manager",
                status="pending",
            )
        )
        ResultCaseFactory(status="pending")
        ResultCaseFactory(status="pending")
        db.session.commit()
    login(client, world.moderator_id, mfa=True)
    html = client.get("/moderation/").get_data(as_text=True)
    sizes = dict(re.findall(r'data-queue="(\w+)">.*?<td class="count">(\d+)</td>', html))
    assert sizes == {
        "reviews": "1",
        "followups": "0",
        "photos": "0",
        "reports": "0",
        "appeals": "0",
        "claims": "1",
        "new_clinics": "1",
        "results": "2",
    }
    assert 'href="/moderation/reviews"' in html
    for endpoint, path in (
        ("moderation.claims", "claims"),
        ("moderation.new_clinics", "clinics/new"),
    ):
        assert (f'href="/moderation/{path}' in html) == (endpoint in app.view_functions)
    assert " min<" in html or " h<" in html


def test_queue_shows_content_signals_and_photos(client, app, world):
    with app.app_context():
        db.session.get(User, world.owner_id).signup_origin = "same-net"
        db.session.commit()
    rid = pending_review(app, world, photos=[image_bytes(seed=3)])
    login(client, world.moderator_id, mfa=True)
    html = client.get("/moderation/reviews").get_data(as_text=True)
    assert GOOD_TEXT[:40] in html and f"Testimonial #{rid}" in html
    for label in (
        "Account age",
        "E-mail verified",
        "Author&#39;s other testimonials",
        "Near-duplicate text",
        "Burst of testimonials",
        "Shared network origin",
        "Uniform extreme ratings",
        "Photos matching",
    ):
        assert label in html, label
    assert "with the clinic&#39;s owner" in html and "needs a closer look" in html
    assert "/media/" in html and "/thumb.jpg" in html
    detail = client.get(f"/moderation/reviews/{rid}").get_data(as_text=True)
    assert "Shared network origin" in detail and "No decision yet." in detail


def test_publish_through_the_queue_changes_the_public_page_at_once(client, app, world):
    rid = pending_review(app, world, photos=[image_bytes(seed=6)])
    visitor = app.test_client()
    assert GOOD_TEXT[:40] not in visitor.get(f"/clinics/{world.slug}").get_data(as_text=True)
    login(client, world.moderator_id, mfa=True)
    resp = decide(
        client,
        f"/moderation/reviews/{rid}/decide",
        {"status": "rejected", "moderator_id": str(world.other_id)},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/moderation/reviews")
    with app.app_context():
        r = db.session.get(Review, rid)
        expected = quality.explain([scores.facts_for(r)], datetime.now(UTC)).score
        d = db.session.execute(select(ModerationDecision)).scalar_one()
        assert d.moderator_id == world.moderator_id and d.subject_user_id == world.author_id
    html = visitor.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert GOOD_TEXT[:40] in html
    assert f"{expected:.2f}" in html
    assert status_of(app, rid) == "published"


@pytest.mark.parametrize(
    "change",
    [
        {"statement": ""},
        {"statement": "short"},
        {"reason_code": "bogus"},
        {"action": "delete_everything"},
        {"csrf_token": "forged"},
    ],
)
def test_bad_decision_input_is_400_and_changes_nothing(client, app, world, change):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    resp = decide(client, f"/moderation/reviews/{rid}/decide", change)
    assert resp.status_code == 400
    assert status_of(app, rid) == "pending" and decision_count(app) == 0


def test_verify_without_proof_is_refused_with_message(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    resp = decide(
        client,
        f"/moderation/reviews/{rid}/decide",
        {"action": "verify", "reason_code": "verified_proof"},
    )
    assert resp.status_code == 400 and "proof" in resp.get_data(as_text=True)
    resp = decide(
        client,
        f"/moderation/reviews/{rid}/decide",
        {"action": "verify", "reason_code": "verified_proof", "proof": "Invoice #42"},
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Review, rid).verification_note == "Invoice #42"


def test_stale_decision_is_409(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    assert decide(client, f"/moderation/reviews/{rid}/decide").status_code == 302
    resp = decide(client, f"/moderation/reviews/{rid}/decide", {"action": "reject"})
    assert resp.status_code == 409 and "Only a pending" in resp.get_data(as_text=True)
    assert decide(client, "/moderation/reviews/9999/decide").status_code == 404


def test_moderator_cannot_decide_own_review_or_own_clinic(client, app, world):
    with app.app_context():
        own = ReviewFactory(author=db.session.get(User, world.moderator_id), status="pending")
        owned = ClinicFactory(owner=db.session.get(User, world.moderator_id))
        theirs = ReviewFactory(clinic=owned, status="pending")
        ids = (own.id, theirs.id)
    login(client, world.moderator_id, mfa=True)
    for rid in ids:
        assert decide(client, f"/moderation/reviews/{rid}/decide").status_code == 403
        assert status_of(app, rid) == "pending"
    assert decision_count(app) == 0


def test_followup_queue_publish(client, app, world):
    with app.app_context():
        r = ReviewFactory(
            clinic=db.session.get(Clinic, world.clinic_id),
            author=db.session.get(User, world.author_id),
            last_session_month=months_ago(14),
        )
        fu = review_service.add_followup(
            r, by=r.author, text="A year on, still looks sharp.", healing=5
        )
        db.session.commit()
        fid = fu.id
    login(client, world.moderator_id, mfa=True)
    assert "still looks sharp" in client.get("/moderation/followups").get_data(as_text=True)
    assert (
        decide(
            client, f"/moderation/followups/{fid}/decide", form_url="/moderation/followups"
        ).status_code
        == 302
    )
    html = app.test_client().get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert "still looks sharp" in html and "healing 5/5" in html
    with app.app_context():
        assert db.session.get(FollowUp, fid).status == "published"


def test_photo_queue_reject_one_photo(client, app, world):
    rid = pending_review(app, world)
    with app.app_context():
        r = db.session.get(Review, rid)
        r.status = "published"
        from directory.services import media

        p = media.ingest(
            image_bytes(seed=11),
            uploader_id=r.author_id,
            kind="review",
            consent=True,
            review_id=r.id,
            clinic_id=r.clinic_id,
        )
        db.session.commit()
        pid = p.id
    login(client, world.moderator_id, mfa=True)
    assert f"Photo #{pid}" in client.get("/moderation/photos").get_data(as_text=True)
    resp = decide(
        client,
        f"/moderation/photos/{pid}/decide",
        {"action": "reject", "reason_code": "stolen_photo"},
        form_url="/moderation/photos",
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Photo, pid).status == "rejected"


def test_report_queue_uphold_removes_and_updates_score(client, app, world):
    with app.app_context():
        r = ReviewFactory(clinic=db.session.get(Clinic, world.clinic_id))
        scores.recompute_clinic(r.clinic)
        reports.file(
            "review",
            r.id,
            by=db.session.get(User, world.other_id),
            reason="fake",
            text="The clinic's own staff.",
        )
        db.session.commit()
        rid, rep_id = r.id, db.session.execute(select(Report.id)).scalar_one()
    login(client, world.moderator_id, mfa=True)
    assert "The clinic&#39;s own staff." in client.get("/moderation/reports").get_data(as_text=True)
    resp = decide(
        client,
        f"/moderation/reports/{rep_id}/decide",
        {"action": "remove", "reason_code": "not_first_hand"},
        form_url="/moderation/reports",
    )
    assert resp.status_code == 302
    assert status_of(app, rid) == "removed"
    with app.app_context():
        assert db.session.get(Clinic, world.clinic_id).quality_score is None


def test_appeal_queue_needs_a_different_moderator(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    assert (
        decide(
            client, f"/moderation/reviews/{rid}/decide", {"action": "reject", "reason_code": "spam"}
        ).status_code
        == 302
    )
    with app.app_context():
        moderation.file_appeal(
            "review",
            rid,
            by=db.session.get(User, world.author_id),
            text="It is my genuine experience, please look again.",
        )
        db.session.commit()
        aid = db.session.execute(select(Appeal.id)).scalar_one()
    resp = decide(
        client,
        f"/moderation/appeals/{aid}/decide",
        {"action": "uphold"},
        form_url="/moderation/appeals",
    )
    assert resp.status_code == 403 and status_of(app, rid) == "rejected"
    other = app.test_client()
    login(other, world.moderator2_id, mfa=True)
    assert "genuine experience" in other.get("/moderation/appeals").get_data(as_text=True)
    resp = decide(
        other,
        f"/moderation/appeals/{aid}/decide",
        {"action": "uphold"},
        form_url="/moderation/appeals",
    )
    assert resp.status_code == 302 and status_of(app, rid) == "published"
    assert GOOD_TEXT[:40] in app.test_client().get(f"/clinics/{world.slug}").get_data(as_text=True)


def test_log_filters_by_moderator_clinic_and_action(client, app, world):
    r1 = pending_review(app, world)
    with app.app_context():
        other_clinic = ClinicFactory()
        r2 = ReviewFactory(clinic=other_clinic, status="pending").id
        oc = other_clinic.id
    m1 = app.test_client()
    login(m1, world.moderator_id, mfa=True)
    decide(m1, f"/moderation/reviews/{r1}/decide")
    m2 = app.test_client()
    login(m2, world.moderator2_id, mfa=True)
    decide(m2, f"/moderation/reviews/{r2}/decide", {"action": "reject", "reason_code": "spam"})

    def rows(query):
        return m1.get("/moderation/log" + query).get_data(as_text=True).count('class="log-row"')

    assert rows("") == 2
    assert rows(f"?moderator={world.moderator_id}") == 1
    assert rows(f"?clinic={oc}") == 1
    assert rows("?action=reject") == 1
    assert rows(f"?action=publish&moderator={world.moderator2_id}") == 0
    for bad in ("?moderator=abc", "?clinic=-1", "?page=x", "?action=" + "a" * 40):
        assert m1.get("/moderation/log" + bad).status_code == 400
