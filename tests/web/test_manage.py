"""The clinic owners' pages: dashboard, claim, register, edit, practitioners,
result cases and replies, with every refusal."""

import re

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import (
    Clinic,
    ClinicChange,
    ClinicClaim,
    ClinicReply,
    Photo,
    Practitioner,
    ResultCase,
    Review,
)
from directory.services import scores
from tests import manage_support
from tests.conftest import csrf_from, login, post_form
from tests.factories import PractitionerFactory, ReviewFactory, image_bytes
from tests.manage_support import clinic_row

PROFILE = dict(
    name="Own Clinic",
    description="Natural hairlines.",
    email="hi@own-clinic.example",
    phone="+44 20 7946 0000",
    website="https://own-clinic.example",
    address="1 High Street",
    postal_code="N1 1AA",
    city="London",
    region="England",
    country="GB",
    services=["full_scalp", "scar"],
    price_min="1200",
    price_max="2600",
    currency="GBP",
    languages="English, French",
    year_founded="2012",
)

world = manage_support.world  # the fixture, under its own name


def counts(app):
    with app.app_context():
        return {
            m.__name__: db.session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (
                ClinicChange,
                ClinicClaim,
                ClinicReply,
                Photo,
                Practitioner,
                ResultCase,
                Clinic,
            )
        }


@pytest.fixture
def extras(app, world):
    with app.app_context():
        own = db.session.get(Clinic, world["owned"])
        p = PractitionerFactory(clinic=own, name="Ana Dots")
        r = ReviewFactory(clinic=own, title="Great hairline")
        scores.recompute_clinic(own)
        db.session.commit()
        return dict(practitioner=p.id, review=r.id)


def as_(client, app, world, who):
    if who != "anonymous":
        login(client, world[who], mfa=who in ("moderator", "admin"))


# ------------------------------------------------------------------ refusals


def owner_routes(world, extras):
    pid, rid = extras["practitioner"], extras["review"]
    return [
        ("GET", "/manage/own/edit", None),
        ("POST", "/manage/own/edit", dict(PROFILE, price_min="1")),
        ("GET", "/manage/own/practitioners", None),
        ("POST", "/manage/own/practitioners", {"name": "Intruder"}),
        ("GET", f"/manage/own/practitioners/{pid}", None),
        ("POST", f"/manage/own/practitioners/{pid}", {"name": "Renamed"}),
        ("POST", f"/manage/own/practitioners/{pid}/retire", {}),
        ("GET", "/manage/own/results/new", None),
        ("POST", "/manage/own/results/new", {"sessions": "3"}),
        ("GET", "/manage/own/reviews", None),
        ("GET", f"/manage/own/reviews/{rid}/reply", None),
        ("POST", f"/manage/own/reviews/{rid}/reply", {"text": "Not my clinic"}),
    ]


@pytest.mark.parametrize("who", ["anonymous", "consumer", "other_owner", "moderator", "admin"])
def test_only_the_owner_reaches_a_clinics_manage_pages(app, client, world, extras, who):
    as_(client, app, world, who)
    before_rows, before_clinic = counts(app), clinic_row(app, world["owned"])
    token = None if who == "anonymous" else csrf_from(client, "/manage")
    for method, url, data in owner_routes(world, extras):
        if method == "GET":
            resp = client.get(url)
        else:
            payload = dict(data)
            if token:
                payload["csrf_token"] = token
            resp = client.post(url, data=payload)
        if who == "anonymous":
            assert resp.status_code in (302, 400), (method, url)
            if resp.status_code == 302:
                assert "/auth/login" in resp.headers["Location"]
        else:
            assert resp.status_code == 403, (who, method, url, resp.status_code)
    assert counts(app) == before_rows
    assert clinic_row(app, world["owned"]) == before_clinic


@pytest.mark.parametrize("url", ["/manage", "/manage/clinics/new", "/manage/claim/free"])
def test_anonymous_users_are_sent_to_log_in(client, world, url):
    resp = client.get(url)
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_unknown_clinic_is_404_and_unknown_items_too(app, client, world, extras):
    as_(client, app, world, "owner")
    assert client.get("/manage/nope/edit").status_code == 404
    assert client.get("/manage/own/practitioners/99999").status_code == 404
    assert client.get("/manage/own/reviews/99999/reply").status_code == 404
    assert client.get("/manage/claim/nope").status_code == 404


def test_owner_cannot_reach_another_clinics_items_through_their_own(app, client, world, extras):
    with app.app_context():
        theirs = db.session.get(Clinic, world["others"])
        p = PractitionerFactory(clinic=theirs, name="Their Person")
        r = ReviewFactory(clinic=theirs)
        pid, rid = p.id, r.id
    as_(client, app, world, "owner")
    before = counts(app)
    assert client.get(f"/manage/own/practitioners/{pid}").status_code == 404
    assert (
        post_form(
            client, f"/manage/own/practitioners/{pid}/retire", {}, form_url="/manage"
        ).status_code
        == 404
    )
    assert (
        post_form(
            client, f"/manage/own/reviews/{rid}/reply", {"text": "Hijack"}, form_url="/manage"
        ).status_code
        == 404
    )
    assert counts(app) == before


def test_state_changes_need_post_and_a_csrf_token(app, client, world, extras):
    as_(client, app, world, "owner")
    pid = extras["practitioner"]
    assert client.get(f"/manage/own/practitioners/{pid}/retire").status_code == 405
    before = counts(app)
    assert client.post("/manage/own/practitioners", data={"name": "X"}).status_code == 400
    assert client.post(f"/manage/own/practitioners/{pid}/retire").status_code == 400
    assert client.post("/manage/own/edit", data=PROFILE).status_code == 400
    assert counts(app) == before


# ------------------------------------------------------------------ dashboard


def test_dashboard_shows_clinics_views_score_history_and_unreplied(app, client, world, extras):
    client.get("/clinics/own")
    client.get("/clinics/own")
    as_(client, app, world, "owner")
    resp = client.get("/manage")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.count("<h1") == 1
    assert "Own Clinic" in html and "Other Clinic" not in html
    assert re.search(r'class="display-6 mb-0 views-30d">2<', html)
    assert "Great hairline" in html  # testimonial without a reply
    assert "Reports filed by the clinic: 0, upheld: 0" in html
    assert 'class="table table-sm small score-history"' in html
    assert 'href="/manage"' in html  # "For clinics" in the navigation


def test_dashboard_for_a_consumer_offers_claim_and_register(app, client, world):
    as_(client, app, world, "consumer")
    html = client.get("/manage").get_data(as_text=True)
    assert "You do not manage a clinic yet" in html
    assert "/manage/clinics/new" in html


def test_suspended_clinic_owner_sees_why(app, client, world):
    with app.app_context():
        c = db.session.get(Clinic, world["owned"])
        c.status, c.status_reason = "suspended", "Photos taken from another clinic's site."
        db.session.commit()
    assert client.get("/clinics/own").status_code == 404
    as_(client, app, world, "owner")
    html = client.get("/manage").get_data(as_text=True)
    assert "suspended" in html and "Photos taken from another clinic&#39;s site." in html


# ------------------------------------------------------------------ claim


def test_claim_flow_and_refusals(app, client, world):
    assert "Claim it" in client.get("/clinics/free").get_data(as_text=True)
    assert "Claim it" not in client.get("/clinics/own").get_data(as_text=True)
    as_(client, app, world, "consumer")
    resp = post_form(client, "/manage/claim/free", {"role_at_clinic": "", "phone": "1"})
    assert resp.status_code == 400 and "Say what your role" in resp.get_data(as_text=True)
    resp = post_form(
        client,
        "/manage/claim/free",
        {
            "role_at_clinic": "Manager",
            "business_email": "me@free.example",
            "evidence_links": "javascript:alert(1)",
        },
    )
    assert resp.status_code == 400 and "http" in resp.get_data(as_text=True)
    resp = post_form(
        client,
        "/manage/claim/free",
        {
            "role_at_clinic": "Manager",
            "business_email": "me@free.example",
            "evidence_links": "https://free.example/team",
            "status": "approved",
            "user_id": "1",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        claim = db.session.execute(select(ClinicClaim)).scalar_one()
        assert claim.status == "pending" and claim.user_id == world["consumer"]
        assert db.session.get(Clinic, world["free"]).owner_id is None
    html = client.get("/manage/claim/free").get_data(as_text=True)
    assert "You already sent a claim" in html
    again = post_form(
        client,
        "/manage/claim/free",
        {"role_at_clinic": "Manager", "phone": "12345"},
        form_url="/manage",
    )
    assert again.status_code == 409
    assert "waiting for a moderator" in client.get("/manage").get_data(as_text=True)


def test_an_owned_clinic_cannot_be_claimed(app, client, world):
    as_(client, app, world, "consumer")
    assert "already managed" in client.get("/manage/claim/own").get_data(as_text=True)
    resp = post_form(
        client,
        "/manage/claim/own",
        {"role_at_clinic": "Owner", "phone": "12345"},
        form_url="/manage",
    )
    assert resp.status_code == 409
    with app.app_context():
        assert db.session.get(Clinic, world["owned"]).owner_id == world["owner"]


# ------------------------------------------------------------------ register


def test_register_a_new_clinic_is_pending_and_hidden(app, client, world):
    as_(client, app, world, "consumer")
    assert client.get("/manage/clinics/new").status_code == 200
    data = dict(
        PROFILE,
        name="Brand New Ink",
        city="Leeds",
        works_there="y",
        status="listed",
        owner_id=str(world["consumer"]),
    )
    resp = post_form(client, "/manage/clinics/new", data)
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.execute(select(Clinic).where(Clinic.name == "Brand New Ink")).scalar_one()
        assert c.status == "pending" and c.owner_id is None
        assert c.latitude == pytest.approx(53.8, abs=0.1)
        slug = c.slug
    assert client.get(f"/clinics/{slug}").status_code == 404
    assert "Brand New Ink" in client.get("/manage").get_data(as_text=True)


def test_registering_a_listed_clinic_again_suggests_claiming_it(app, client, world):
    as_(client, app, world, "consumer")
    resp = post_form(
        client,
        "/manage/clinics/new",
        dict(PROFILE, name="Free Clinic", works_there="y"),
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "A similar clinic is already listed: Free Clinic" in html


@pytest.mark.parametrize(
    "over,message",
    [
        ({"works_there": ""}, "Confirm that you work"),
        ({"website": "javascript:alert(1)"}, "http"),
        ({"city": "Qzxqzx"}, "could not find"),
        ({"country": "XX"}, "Not a valid choice"),
        ({"price_min": "abc"}, "Not a valid integer"),
        ({"price_min": "5000", "price_max": "10"}, "lowest price"),
        ({"services": ["botox"]}, "Not a valid choice"),
    ],
)
def test_register_refuses_bad_input_with_a_message(app, client, world, over, message):
    as_(client, app, world, "consumer")
    before = counts(app)
    data = dict(PROFILE, name="Brand New Ink", works_there="y")
    data.update(over)
    resp = post_form(client, "/manage/clinics/new", data)
    assert resp.status_code == 400
    assert message.lower() in resp.get_data(as_text=True).lower()
    assert counts(app) == before


# ------------------------------------------------------------------ edit


def test_edit_form_is_prefilled_and_labelled(app, client, world):
    as_(client, app, world, "owner")
    html = client.get("/manage/own/edit").get_data(as_text=True)
    assert 'value="https://own-clinic.example"' in html
    assert html.count("<h1") == 1
    for field_id in (
        "name",
        "description",
        "website",
        "price_min",
        "currency",
        "country",
        "latitude",
        "year_founded",
    ):
        assert f'for="{field_id}"' in html


def test_edit_saves_at_once_logs_history_and_leaves_the_score(app, client, world, extras):
    with app.app_context():
        before = db.session.get(Clinic, world["owned"]).quality_score
    as_(client, app, world, "owner")
    resp = post_form(
        client,
        "/manage/own/edit",
        dict(
            PROFILE,
            quality_score="5",
            status="verified",
            owner_id=str(world["consumer"]),
            review_count="99",
        ),
    )
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.get(Clinic, world["owned"])
        assert (c.price_min, c.price_max, c.currency) == (1200, 2600, "GBP")
        assert c.services == ["full_scalp", "scar"] and c.languages == ["English", "French"]
        assert c.quality_score == before and c.status == "claimed"
        assert c.owner_id == world["owner"] and c.review_count == 1
        fields = set(db.session.execute(select(ClinicChange.field)).scalars())
        assert {"price_min", "price_max", "description", "services", "languages"} <= fields
    html = client.get("/clinics/own").get_data(as_text=True)
    assert "GBP 1,200–2,600" in html and "Natural hairlines." in html


def test_edit_with_a_bad_website_is_refused_and_saves_nothing(app, client, world):
    as_(client, app, world, "owner")
    before = clinic_row(app, world["owned"])
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "evil.example"):
        resp = post_form(client, "/manage/own/edit", dict(PROFILE, website=bad))
        assert resp.status_code == 400
        assert "must be a full address" in resp.get_data(as_text=True)
    assert clinic_row(app, world["owned"]) == before


def test_manual_coordinates_override_the_gazetteer(app, client, world):
    as_(client, app, world, "owner")
    resp = post_form(
        client,
        "/manage/own/edit",
        dict(PROFILE, manual_coordinates="y", latitude="51.6", longitude="-0.2"),
    )
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.get(Clinic, world["owned"])
        assert (c.latitude, c.longitude) == (51.6, -0.2)


def test_user_text_is_escaped_on_the_public_page(app, client, world):
    as_(client, app, world, "owner")
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    post_form(client, "/manage/own/edit", dict(PROFILE, description=payload))
    html = client.get("/clinics/own").get_data(as_text=True)
    assert payload not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ------------------------------------------------------------------ practitioners


def test_practitioners_add_edit_retire(app, client, world, extras):
    as_(client, app, world, "owner")
    resp = post_form(
        client,
        "/manage/own/practitioners",
        {"name": "Ben Needle", "years_practice": "4", "training": "Academy X"},
    )
    assert resp.status_code == 302
    with app.app_context():
        ben = db.session.execute(
            select(Practitioner).where(Practitioner.name == "Ben Needle")
        ).scalar_one()
        bid = ben.id
    bad = post_form(client, "/manage/own/practitioners", {"name": "", "years_practice": "x"})
    assert bad.status_code == 400
    url = f"/manage/own/practitioners/{bid}"
    assert 'value="Ben Needle"' in client.get(url).get_data(as_text=True)
    saved = post_form(client, url, {"name": "Ben Needles", "years_practice": "5"})
    assert saved.status_code == 302
    assert post_form(client, url, {"name": "Ben", "years_practice": "500"}).status_code == 400
    assert post_form(client, url + "/retire", {}, form_url=url).status_code == 302
    with app.app_context():
        ben = db.session.get(Practitioner, bid)
        assert ben.name == "Ben Needles" and ben.years_practice == 5 and ben.retired_at
    client.get("/manage")  # shows (and so clears) the flash message
    assert "Ben Needles" not in client.get("/clinics/own").get_data(as_text=True)
    assert post_form(client, url + "/retire", {}, form_url="/manage").status_code == 409


# ------------------------------------------------------------------ results


def result_form(**over):
    from io import BytesIO

    data = {
        "before": (BytesIO(image_bytes(seed=11)), "before.jpg"),
        "after": (BytesIO(image_bytes(seed=12, fmt="PNG")), "after.png"),
        "treatment_type": "full_scalp",
        "sessions": "3",
        "months_since_last_session": "8",
        "stage": "norwood-6",
        "skin_type": "4",
        "hair_colour": "black",
        "goal": "buzz",
        "practitioner_id": "0",
        "notes": "Norwood six, three sessions.",
        "consent": "y",
    }
    data.update(over)
    return data


def test_owner_adds_a_result_case_that_waits_for_moderation(app, client, world, extras):
    as_(client, app, world, "owner")
    page = client.get("/manage/own/results/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "Ana Dots" in page
    resp = post_form(
        client,
        "/manage/own/results/new",
        result_form(practitioner_id=str(extras["practitioner"]), status="published"),
        form_url="/manage/own/results/new",
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        case = db.session.execute(select(ResultCase)).scalar_one()
        assert case.status == "pending" and case.practitioner_id == extras["practitioner"]
        assert case.before_photo.status == "pending"
        photo_id = case.after_photo_id
    assert "Norwood six" not in client.get("/clinics/own/results").get_data(as_text=True)
    assert "Result case #" in client.get("/manage").get_data(as_text=True)
    with client.get(f"/media/{photo_id}/thumb.jpg") as photo:
        assert photo.status_code == 200  # the uploader sees it
    with client.session_transaction() as sess:
        sess.clear()
    with client.get(f"/media/{photo_id}/thumb.jpg") as photo:
        assert photo.status_code == 404


@pytest.mark.parametrize(
    "over,message",
    [
        ({"consent": ""}, "consent"),
        ({"stage": "norwood-12"}, "Not a valid choice"),
        ({"skin_type": "9"}, "Not a valid choice"),
        ({"sessions": "0"}, "Number must be"),
        ({"before": None}, "before photo"),
        ({"after": (__import__("io").BytesIO(b"<svg onload=alert(1)>"), "x.jpg")}, "Only JPEG"),
        ({"healed": (__import__("io").BytesIO(image_bytes(seed=3)), "h.jpg")}, "12 months"),
    ],
)
def test_bad_result_cases_are_refused_and_leave_nothing(app, client, world, over, message):
    as_(client, app, world, "owner")
    before = counts(app)
    data = {k: v for k, v in result_form(**over).items() if v is not None}
    resp = post_form(
        client,
        "/manage/own/results/new",
        data,
        form_url="/manage/own/results/new",
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    assert message.lower() in resp.get_data(as_text=True).lower()
    assert counts(app) == before
    import os

    folder = app.config["MEDIA_DIR"]
    assert not os.path.isdir(folder) or os.listdir(folder) == []


# ------------------------------------------------------------------ replies


def test_owner_replies_in_public_and_edits_the_reply(app, client, world, extras):
    rid = extras["review"]
    as_(client, app, world, "owner")
    assert "Great hairline" in client.get("/manage/own/reviews").get_data(as_text=True)
    url = f"/manage/own/reviews/{rid}/reply"
    assert post_form(client, url, {"text": ""}).status_code == 400
    assert post_form(client, url, {"text": "Thank you, <b>Sam</b>!"}).status_code == 302
    html = client.get("/clinics/own/reviews").get_data(as_text=True)
    with app.app_context():
        reply_id = db.session.execute(select(ClinicReply.id)).scalar_one()
    assert f'id="reply-{reply_id}"' in html and "Thank you, &lt;b&gt;Sam&lt;/b&gt;!" in html
    assert "Reply from the clinic" in html
    assert "Thank you" in client.get(url).get_data(as_text=True)
    assert post_form(client, url, {"text": "Updated answer."}).status_code == 302
    with app.app_context():
        replies_ = db.session.execute(select(ClinicReply)).scalars().all()
        assert len(replies_) == 1 and replies_[0].text == "Updated answer."
    assert "Updated answer." in client.get("/clinics/own/reviews").get_data(as_text=True)


def test_pending_testimonials_cannot_be_answered(app, client, world):
    with app.app_context():
        r = ReviewFactory(clinic=db.session.get(Clinic, world["owned"]), status="pending")
        rid = r.id
    as_(client, app, world, "owner")
    assert client.get(f"/manage/own/reviews/{rid}/reply").status_code == 404
    assert (
        post_form(
            client, f"/manage/own/reviews/{rid}/reply", {"text": "Hello"}, form_url="/manage"
        ).status_code
        == 404
    )
    with app.app_context():
        assert db.session.get(Review, rid).reply is None
