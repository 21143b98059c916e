"""Moderation queues for claims, new clinics and result cases, and the profile history."""

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic, ClinicClaim, ModerationDecision, ResultCase, User
from directory.services import claims, media, profiles, results
from tests import manage_support
from tests.conftest import login, post_form
from tests.factories import image_bytes
from tests.manage_support import clinic_row
from tests.web._mail import texts

DECIDE = {
    "action": "approve",
    "reason_code": "meets_guidelines",
    "statement": "Evidence checked against the website.",
}

world = manage_support.world  # the fixture, under its own name


def as_(client, app, world, who, mfa=True):
    if who != "anonymous":
        login(client, world[who], mfa=mfa)


@pytest.fixture
def queue(app, world):
    """One pending item of each kind: a claim on `free`, a new clinic, a result case of `own`."""
    with app.app_context():
        free = db.session.get(Clinic, world["free"])
        consumer = db.session.get(User, world["consumer"])
        claim = claims.submit(
            free,
            by=consumer,
            role_at_clinic="Manager",
            business_email="boss@free.example",
            phone=None,
            evidence_links=None,
            evidence="I run it.",
        )
        new = profiles.create_clinic(
            by=consumer,
            data=dict(
                name="Free Clinic", city="London", country="GB", website="https://dup.example"
            ),
        )
        own = db.session.get(Clinic, world["owned"])
        case = results.submit(
            own,
            by=db.session.get(User, world["owner"]),
            before=image_bytes(seed=1, size=(160, 120)),
            after=image_bytes(seed=2, size=(160, 120)),
            healed=None,
            treatment_type="full_scalp",
            sessions=3,
            months_since_last_session=9,
            stage="norwood-4",
            skin_type=2,
            hair_colour="blond",
            goal="buzz",
            notes="QUEUED CASE",
            consent=True,
        )
        db.session.commit()
        return dict(claim=claim.id, new=new.id, new_slug=new.slug, case=case.id)


def decisions(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(ModerationDecision)).scalar_one()


QUEUES = [
    "/moderation/claims",
    "/moderation/clinics/new",
    "/moderation/results",
    "/moderation/clinics/own/history",
]


@pytest.mark.parametrize("who", ["consumer", "owner", "other_owner"])
def test_queues_and_decisions_are_for_moderators_only(app, client, world, queue, who):
    as_(client, app, world, who)
    before = decisions(app), clinic_row(app, world["free"]), clinic_row(app, queue["new"])
    for url in QUEUES:
        assert client.get(url).status_code == 403, url
    for url in (
        f"/moderation/claims/{queue['claim']}/decide",
        f"/moderation/clinics/{queue['new']}/decide",
        f"/moderation/results/{queue['case']}/decide",
    ):
        assert post_form(client, url, DECIDE, form_url="/manage").status_code == 403, url
    assert (decisions(app), clinic_row(app, world["free"]), clinic_row(app, queue["new"])) == before


def test_anonymous_and_moderators_without_second_factor_are_redirected(app, client, world, queue):
    for url in QUEUES:
        resp = client.get(url)
        assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
    as_(client, app, world, "moderator", mfa=False)
    for url in QUEUES:
        resp = client.get(url)
        assert resp.status_code == 302 and "/auth/totp" in resp.headers["Location"]


def test_claims_queue_shows_the_evidence_and_the_domain_signal(app, client, world, queue):
    as_(client, app, world, "moderator")
    resp = client.get("/moderation/claims")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.count("<h1") == 1
    assert "boss@free.example" in html and "at the clinic's website domain" in html
    # Nobody has proved control of the address yet: the queue says so.
    assert "code not confirmed" in html
    assert "Manager" in html and "I run it." in html
    assert 'name="statement"' in html and 'for="action-claim-' in html


def test_approving_a_claim_hands_over_the_clinic(app, client, world, queue):
    as_(client, app, world, "moderator")
    resp = post_form(
        client,
        f"/moderation/claims/{queue['claim']}/decide",
        dict(DECIDE, owner_id=str(world["moderator"])),
        form_url="/moderation/claims",
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/moderation/claims")
    with app.app_context():
        clinic = db.session.get(Clinic, world["free"])
        assert clinic.owner_id == world["consumer"] and clinic.status == "claimed"
        assert db.session.get(User, world["consumer"]).role == "clinic_owner"
        row = db.session.execute(select(ModerationDecision)).scalar_one()
        assert (row.item_type, row.clinic_id, row.subject_user_id) == (
            "claim",
            clinic.id,
            world["consumer"],
        )
    assert "was approved" in texts(app)[-1]
    assert "Nothing is waiting here" in client.get("/moderation/claims").get_data(as_text=True)
    again = post_form(
        client, f"/moderation/claims/{queue['claim']}/decide", DECIDE, form_url="/moderation/claims"
    )
    assert again.status_code == 409 and decisions(app) == 1


def test_rejecting_needs_a_statement_and_keeps_the_form(app, client, world, queue):
    as_(client, app, world, "moderator")
    url = f"/moderation/claims/{queue['claim']}/decide"
    resp = post_form(
        client,
        url,
        dict(DECIDE, action="reject", statement="short"),
        form_url="/moderation/claims",
    )
    assert resp.status_code == 400 and "at least 10 characters" in resp.get_data(as_text=True)
    resp = post_form(
        client, url, dict(DECIDE, reason_code="nonsense"), form_url="/moderation/claims"
    )
    assert resp.status_code == 400
    assert decisions(app) == 0
    resp = post_form(
        client,
        url,
        dict(DECIDE, action="reject", reason_code="insufficient_evidence"),
        form_url="/moderation/claims",
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(ClinicClaim, queue["claim"]).status == "rejected"
        assert db.session.get(Clinic, world["free"]).owner_id is None


def test_moderator_cannot_decide_their_own_claim(app, client, world):
    with app.app_context():
        claim = claims.submit(
            db.session.get(Clinic, world["free"]),
            by=db.session.get(User, world["moderator"]),
            role_at_clinic="Owner",
            business_email=None,
            phone="12345",
            evidence_links=None,
            evidence=None,
        )
        db.session.commit()
        cid = claim.id
    as_(client, app, world, "moderator")
    html = client.get("/moderation/claims").get_data(as_text=True)
    assert "cannot decide on your own submission" in html
    resp = post_form(
        client, f"/moderation/claims/{cid}/decide", DECIDE, form_url="/moderation/claims"
    )
    assert resp.status_code == 403 and decisions(app) == 0
    as_(client, app, world, "moderator2")
    assert (
        post_form(
            client, f"/moderation/claims/{cid}/decide", DECIDE, form_url="/moderation/claims"
        ).status_code
        == 302
    )


def test_unknown_items_are_404(app, client, world):
    as_(client, app, world, "moderator")
    for url in (
        "/moderation/claims/999/decide",
        "/moderation/clinics/999/decide",
        "/moderation/results/999/decide",
    ):
        assert post_form(client, url, DECIDE, form_url="/moderation/claims").status_code == 404
    assert client.get("/moderation/clinics/nope/history").status_code == 404


def test_new_clinic_queue_flags_duplicates_and_publishing_lists_it(app, client, world, queue):
    as_(client, app, world, "moderator")
    html = client.get("/moderation/clinics/new").get_data(as_text=True)
    assert "Possible duplicate of" in html and "Free Clinic" in html
    assert client.get(f"/clinics/{queue['new_slug']}").status_code == 404
    resp = post_form(
        client,
        f"/moderation/clinics/{queue['new']}/decide",
        dict(DECIDE, action="publish"),
        form_url="/moderation/clinics/new",
    )
    assert resp.status_code == 302
    assert client.get(f"/clinics/{queue['new_slug']}").status_code == 200
    with app.app_context():
        c = db.session.get(Clinic, queue["new"])
        assert c.status == "listed" and c.owner_id == world["consumer"]
    assert "is now listed" in texts(app)[-1]


def test_rejected_new_clinic_stays_hidden_and_its_registrant_sees_why(app, client, world, queue):
    as_(client, app, world, "moderator")
    post_form(
        client,
        f"/moderation/clinics/{queue['new']}/decide",
        dict(
            DECIDE,
            action="reject",
            reason_code="duplicate",
            statement="Already listed as Free Clinic.",
        ),
        form_url="/moderation/clinics/new",
    )
    assert client.get(f"/clinics/{queue['new_slug']}").status_code == 404
    as_(client, app, world, "consumer")
    assert "Already listed as Free Clinic." in client.get("/manage").get_data(as_text=True)


def test_results_queue_shows_photos_and_matches_and_publishing_fills_the_gallery(
    app, client, world, queue
):
    with app.app_context():
        media.ingest(
            image_bytes(seed=2, size=(160, 120)),
            uploader_id=None,
            kind="after",
            consent=True,
            clinic_id=world["others"],
        )
        db.session.commit()
    as_(client, app, world, "moderator")
    html = client.get("/moderation/results").get_data(as_text=True)
    assert "QUEUED CASE" in html and "Matches 1 photo already on the site" in html
    assert "another clinic" in html
    assert "QUEUED CASE" not in client.get("/clinics/own/results").get_data(as_text=True)
    resp = post_form(
        client,
        f"/moderation/results/{queue['case']}/decide",
        dict(DECIDE, action="publish"),
        form_url="/moderation/results",
    )
    assert resp.status_code == 302
    with app.app_context():
        case = db.session.get(ResultCase, queue["case"])
        assert case.status == "published" and case.clinic.result_count == 1
        after_id = case.after_photo_id
    with client.session_transaction() as sess:
        sess.clear()
    html = client.get("/clinics/own/results?stage=norwood-4").get_data(as_text=True)
    assert "QUEUED CASE" in html
    assert "QUEUED CASE" not in client.get("/clinics/own/results?stage=norwood-5").get_data(
        as_text=True
    )
    assert "QUEUED CASE" in client.get(
        "/clinics/own/results?skin_type=2&hair_colour=blond&goal=buzz&age=healed"
    ).get_data(as_text=True)
    with client.get(f"/media/{after_id}/thumb.jpg") as photo:
        assert photo.status_code == 200
    assert "was published" in texts(app)[-1]


def test_moderator_who_owns_the_clinic_cannot_publish_its_result(app, client, world, queue):
    with app.app_context():
        mod = db.session.get(User, world["moderator"])
        db.session.get(Clinic, world["owned"]).owner_id = mod.id
        db.session.commit()
    as_(client, app, world, "moderator")
    assert "clinic you own" in client.get("/moderation/results").get_data(as_text=True)
    resp = post_form(
        client,
        f"/moderation/results/{queue['case']}/decide",
        dict(DECIDE, action="publish"),
        form_url="/moderation/results",
    )
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.get(ResultCase, queue["case"]).status == "pending"


def test_profile_history_lists_each_changed_field(app, client, world):
    with app.app_context():
        clinic = db.session.get(Clinic, world["owned"])
        profiles.update_profile(
            clinic,
            by=db.session.get(User, world["owner"]),
            data={"price_min": 999, "phone": "+44 1 2345"},
        )
        db.session.commit()
    as_(client, app, world, "moderator")
    html = client.get("/moderation/clinics/own/history").get_data(as_text=True)
    assert "price_min" in html and "999" in html and "1500" in html and "phone" in html


def test_admin_can_moderate_too(app, client, world, queue):
    as_(client, app, world, "admin")
    assert client.get("/moderation/claims").status_code == 200
    assert (
        post_form(
            client,
            f"/moderation/results/{queue['case']}/decide",
            dict(DECIDE, action="publish"),
            form_url="/moderation/results",
        ).status_code
        == 302
    )


def test_the_claimant_confirms_the_business_email_and_the_queue_says_so(app, client, world, queue):
    import re

    from tests.web._mail import last_to, link_in, path_of

    msg = last_to(app, "boss@free.example")
    code = re.search(r"Your code: (\d{6})", msg.get_content()).group(1)
    url = path_of(link_in(msg, "/confirm"))
    as_(client, app, world, "consumer")
    assert "enter the code sent to boss@free.example" in client.get("/manage").get_data(
        as_text=True
    )
    wrong = "000000" if code != "000000" else "111111"
    resp = post_form(client, url, {"code": wrong, "action": "confirm"})
    assert resp.status_code == 400 and "not the code we sent" in resp.get_data(as_text=True)
    assert post_form(client, url, {"code": code, "action": "confirm"}).status_code == 302
    as_(client, app, world, "moderator")
    assert client.get(url).status_code == 404  # only the claimant's page
    html = client.get("/moderation/claims").get_data(as_text=True)
    assert "code confirmed" in html and "code not confirmed" not in html


def test_every_clinic_queue_item_has_its_own_page(app, client, world, queue):
    as_(client, app, world, "moderator")
    for kind, key in (("claim", "claim"), ("clinic", "new"), ("result_case", "case")):
        resp = client.get(f"/moderation/items/{kind}/{queue[key]}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and html.count("<h1") == 1, kind
        assert "Record decision" in html and "No decision yet." in html, kind
    assert client.get("/moderation/items/claim/99999").status_code == 404
    assert client.get("/moderation/items/nonsense/1").status_code == 404
