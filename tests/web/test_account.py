"""The account page, password and e-mail changes, export and deletion
(docs/security.md §5, §8, §11, §38, §39)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import (
    ClinicClaim,
    ModerationDecision,
    Photo,
    Report,
    Review,
    SearchOutbox,
    User,
)
from directory.services import audit, media, passwords, scores
from tests.conftest import login, post_form
from tests.factories import PASSWORD, ClinicFactory, ReviewFactory, UserFactory, image_bytes
from tests.web._mail import messages
from tests.web.test_auth import cookie, replay

NEW_PASSWORD = "a different long passphrase"


@pytest.fixture
def app(app_factory):
    # Keep the search outbox undrained so the tests can see what deletion marked dirty.
    return app_factory(SEARCH_DRAIN_AFTER_COMMIT=False)


@pytest.fixture
def world(app):
    """Ann has a published and a pending review with photos, a report, a claim and a
    decision about her; Bob has his own of each."""
    with app.app_context():
        ann, bob = UserFactory(display_name="Ann Author"), UserFactory(display_name="Bob Other")
        mod = UserFactory(role="moderator")
        c1, c2 = ClinicFactory(name="First Clinic"), ClinicFactory(name="Second Clinic")
        pub = ReviewFactory(clinic=c1, author=ann, text="Ann's published words " * 5)
        pend = ReviewFactory(
            clinic=c2,
            author=ann,
            status="pending",
            published_at=None,
            text="Ann's pending words " * 5,
        )
        bobs = ReviewFactory(clinic=c1, author=bob, text="Bob's private words " * 5)
        db.session.flush()
        photos = {}
        for name, review, uploader, seed in (
            ("ann_pub", pub, ann, 1),
            ("ann_pend", pend, ann, 2),
            ("bob", bobs, bob, 3),
        ):
            p = media.ingest(
                image_bytes(seed=seed),
                uploader_id=uploader.id,
                kind="review",
                consent=True,
                review_id=review.id,
            )
            p.status = "published" if review.status == "published" else "pending"
            photos[name] = p
        db.session.add_all(
            [
                Report(
                    reporter_id=ann.id,
                    target_type="review",
                    target_id=bobs.id,
                    reason="spam",
                    text="Ann reports spam",
                ),
                Report(
                    reporter_id=bob.id,
                    target_type="review",
                    target_id=pub.id,
                    reason="fake",
                    text="Bob reports Ann",
                ),
                ClinicClaim(
                    clinic_id=c2.id,
                    user_id=ann.id,
                    role_at_clinic="manager",
                    evidence="Ann's claim evidence",
                ),
                ClinicClaim(
                    clinic_id=c2.id,
                    user_id=bob.id,
                    role_at_clinic="owner",
                    evidence="Bob's claim evidence",
                ),
            ]
        )
        audit.record(
            by=mod,
            item_type="review",
            item_id=pend.id,
            action="reject",
            reason_code="spam",
            statement="Looks like advertising for Ann's salon.",
            previous_status="pending",
            new_status="rejected",
            subject_user_id=ann.id,
        )
        audit.record(
            by=mod,
            item_type="review",
            item_id=bobs.id,
            action="publish",
            reason_code="meets_guidelines",
            statement="Bob's review meets guidelines.",
            previous_status="pending",
            new_status="published",
            subject_user_id=bob.id,
        )
        scores.recompute_clinic(c1)
        scores.recompute_clinic(c2)
        db.session.commit()
        ids = dict(
            ann=ann.id,
            bob=bob.id,
            mod=mod.id,
            c1=c1.id,
            c2=c2.id,
            pub=pub.id,
            pend=pend.id,
            bobs=bobs.id,
            ann_email=ann.email,
            bob_email=bob.email,
            ann_token=ann.session_token,
            files={
                k: (media.file_path(p, "web"), media.file_path(p, "thumb"))
                for k, p in photos.items()
            },
            photo_ids={k: p.id for k, p in photos.items()},
        )
    return ids


def as_ann(app, world, fresh=True):
    client = app.test_client()
    login(client, world["ann"], fresh=fresh)
    return client


def test_account_page_lists_own_items_and_the_decisions_with_reasons(app, world):
    html = as_ann(app, world).get("/account").get_data(as_text=True)
    assert "Ann Author" in html and world["ann_email"] in html
    assert "First Clinic" in html and "Second Clinic" in html
    assert "Looks like advertising for Ann&#39;s salon." in html
    assert "Spam or advertising" in html
    assert "Bob&#39;s review meets guidelines" not in html
    assert "Bob Other" not in html


def test_account_page_needs_a_login(client):
    resp = client.get("/account")
    assert resp.status_code == 302 and resp.location.startswith("/auth/login")


@pytest.mark.parametrize(
    "url", ["/account/export", "/account/delete", "/account/password", "/account/email"]
)
def test_sensitive_pages_need_a_fresh_login(app, world, url):
    client = as_ann(app, world, fresh=False)
    resp = client.get(url)
    assert resp.status_code == 302
    assert resp.location.startswith("/auth/login") and "reauth=1" in resp.location


def test_a_session_restored_from_the_remember_cookie_is_not_fresh(app, world):
    client = app.test_client()
    post_form(
        client, "/auth/login", {"email": world["ann_email"], "password": PASSWORD, "remember": "y"}
    )
    other = replay(app, remember_token=cookie(client, "remember_token"))
    assert other.get("/account").status_code == 200
    assert other.get("/account/export").status_code == 302


def test_export_holds_all_of_the_users_data_and_photos_and_nothing_of_anyone_else(app, world):
    resp = as_ann(app, world).get("/account/export")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    names = set(zf.namelist())
    data = json.loads(zf.read("account.json"))
    assert data["profile"]["email"] == world["ann_email"]
    assert {r["id"] for r in data["reviews"]} == {world["pub"], world["pend"]}
    assert [r["text"] for r in data["reports"]] == ["Ann reports spam"]
    assert [c["evidence"] for c in data["claims"]] == ["Ann's claim evidence"]
    assert [d["statement"] for d in data["decisions_about_you"]] == [
        "Looks like advertising for Ann's salon."
    ]
    ann_photos = {world["photo_ids"]["ann_pub"], world["photo_ids"]["ann_pend"]}
    assert {p["id"] for p in data["photos"]} == ann_photos
    assert names == {"account.json"} | {f"photos/{i}.jpg" for i in ann_photos}
    with open(world["files"]["ann_pub"][0], "rb") as fh:
        assert zf.read(f"photos/{world['photo_ids']['ann_pub']}.jpg") == fh.read()
    raw = zf.read("account.json").decode()
    for foreign in (
        "Bob",
        world["bob_email"],
        "password_hash",
        "$argon2",
        "totp_secret",
        "session_token",
        world["ann_token"],
    ):
        assert foreign not in raw


def test_password_change_ends_other_sessions_and_keeps_this_one(app, world):
    other = app.test_client()
    post_form(
        other, "/auth/login", {"email": world["ann_email"], "password": PASSWORD, "remember": "y"}
    )
    old = {"session": cookie(other, "session"), "remember_token": cookie(other, "remember_token")}
    client = as_ann(app, world)
    resp = post_form(client, "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert client.get("/account").status_code == 200
    for name, value in old.items():
        resp = replay(app, **{name: value}).get("/account")
        assert resp.status_code == 302 and "/auth/login" in resp.location
    with app.app_context():
        assert passwords.verify_password(
            db.session.get(User, world["ann"]).password_hash, NEW_PASSWORD
        )
    assert any(m["Subject"] == "Your password was changed" for m in messages(app))


@pytest.mark.parametrize(
    "current,new,field",
    [
        ("wrong current password", NEW_PASSWORD, "not correct"),
        (PASSWORD, "too short", "at least 12"),
        (PASSWORD, "password12345", "common passwords"),
    ],
)
def test_password_change_refusals_keep_the_old_password(app, world, current, new, field):
    client = as_ann(app, world)
    resp = post_form(client, "/account/password", {"current": current, "password": new})
    assert resp.status_code == 400 and field in resp.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, world["ann"])
        assert passwords.verify_password(user.password_hash, PASSWORD)
        assert user.session_token == world["ann_token"]


def test_email_change_tells_the_old_address_and_needs_new_verification(app, world):
    client = as_ann(app, world)
    resp = post_form(
        client, "/account/email", {"email": " Ann.New@Example.com", "password": PASSWORD}
    )
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.get(User, world["ann"])
        assert user.email == "ann.new@example.com" and not user.email_verified
    sent = {(m["To"], m["Subject"]) for m in messages(app)}
    assert (world["ann_email"], "Your e-mail address was changed") in sent
    assert ("ann.new@example.com", "Confirm your e-mail address") in sent


@pytest.mark.parametrize(
    "email,password,status",
    [
        ("someone@example.com", "wrong password here", 400),
        ("BOB", PASSWORD, 400),
    ],
)
def test_email_change_refusals_change_nothing(app, world, email, password, status):
    client = as_ann(app, world)
    email = world["bob_email"].upper() if email == "BOB" else email
    resp = post_form(client, "/account/email", {"email": email, "password": password})
    assert resp.status_code == status
    with app.app_context():
        assert db.session.get(User, world["ann"]).email == world["ann_email"]


def snapshot_counts(app):
    with app.app_context():
        return {
            m.__name__: db.session.execute(select(func.count()).select_from(m)).scalar()
            for m in (User, Review, Photo, Report, ClinicClaim, ModerationDecision)
        }


def test_delete_needs_the_password_and_changes_nothing_without_it(app, world):
    before = snapshot_counts(app)
    client = as_ann(app, world)
    resp = post_form(
        client, "/account/delete", {"reviews": "remove", "password": "not my password"}
    )
    assert resp.status_code == 400
    resp = post_form(client, "/account/delete", {"password": PASSWORD})  # no choice
    assert resp.status_code == 400
    assert snapshot_counts(app) == before


@pytest.mark.parametrize("choice", ["remove", "anonymise"])
def test_delete_removes_personal_data_photos_and_sessions(app, world, choice):
    other = app.test_client()
    post_form(
        other, "/auth/login", {"email": world["ann_email"], "password": PASSWORD, "remember": "y"}
    )
    remember = cookie(other, "remember_token")
    client = as_ann(app, world)
    with app.app_context():
        db.session.execute(db.delete(SearchOutbox))
        db.session.commit()
    resp = post_form(client, "/account/delete", {"reviews": choice, "password": PASSWORD})
    assert resp.status_code == 302
    assert client.get("/account").status_code == 302
    assert replay(app, remember_token=remember).get("/account").status_code == 302
    with app.app_context():
        assert db.session.get(User, world["ann"]) is None
        assert (
            db.session.execute(
                select(User).where(User.email == world["ann_email"])
            ).scalar_one_or_none()
            is None
        )
        # Every photo of hers is gone, rows and files; Bob's stays.
        for key in ("ann_pub", "ann_pend"):
            assert db.session.get(Photo, world["photo_ids"][key]) is None
            assert not any(os.path.exists(f) for f in world["files"][key])
        assert db.session.get(Photo, world["photo_ids"]["bob"]) is not None
        assert all(os.path.exists(f) for f in world["files"]["bob"])
        # The pending review always goes; the published one as chosen.
        assert db.session.get(Review, world["pend"]) is None
        pub = db.session.get(Review, world["pub"])
        if choice == "remove":
            assert pub is None
        else:
            assert pub is not None and pub.author_id is None
        # Claims go; her report stays without her; audit rows are pseudonymised.
        claims = db.session.execute(select(ClinicClaim)).scalars().all()
        assert [c.evidence for c in claims] == ["Bob's claim evidence"]
        report = db.session.execute(
            select(Report).where(Report.text == "Ann reports spam")
        ).scalar_one()
        assert report.reporter_id is None
        decision = db.session.execute(
            select(ModerationDecision).where(ModerationDecision.item_id == world["pend"])
        ).scalar_one()
        assert decision.subject_user_id is None
        # Scores recomputed and the search outbox written for the affected clinics.
        from directory.models import Clinic

        c1 = db.session.get(Clinic, world["c1"])
        assert c1.review_count == (1 if choice == "remove" else 2)
        dirty = set(db.session.execute(select(SearchOutbox.clinic_id)).scalars())
        assert {world["c1"], world["c2"]} <= dirty
    # The anonymised review shows no name.
    if choice == "anonymise":
        from directory.models import Clinic

        with app.app_context():
            slug = db.session.get(Clinic, world["c1"]).slug
        html = app.test_client().get(f"/clinics/{slug}/reviews").get_data(as_text=True)
        assert "Ann Author" not in html and "a former member" in html


def test_deleting_a_clinic_owner_unclaims_the_clinic(app):
    with app.app_context():
        owner = UserFactory(role="clinic_owner")
        clinic = ClinicFactory(owner=owner, status="claimed")
        db.session.commit()
        oid, cid = owner.id, clinic.id
    client = app.test_client()
    login(client, oid)
    assert (
        post_form(
            client, "/account/delete", {"reviews": "remove", "password": PASSWORD}
        ).status_code
        == 302
    )
    with app.app_context():
        from directory.models import Clinic

        clinic = db.session.get(Clinic, cid)
        assert clinic.owner_id is None and clinic.status == "listed"


def test_another_users_data_is_never_reachable_by_changing_ids(app, world):
    """The account routes take no ids: each acts on the logged-in user only."""
    client = as_ann(app, world)
    for url in ("/account/export?user_id={bob}", "/account?user={bob}"):
        resp = client.get(url.format(**world))
        body = resp.data
        if resp.mimetype == "application/zip":
            body = zipfile.ZipFile(io.BytesIO(body)).read("account.json")
        assert world["bob_email"].encode() not in body
    post_form(
        client,
        "/account/delete",
        {"reviews": "remove", "password": PASSWORD, "user_id": str(world["bob"])},
    )
    with app.app_context():
        assert db.session.get(User, world["bob"]) is not None
        assert db.session.get(Review, world["bobs"]) is not None


def test_unverified_user_flag_is_exposed(app):
    with app.app_context():
        u = UserFactory(email_verified_at=None)
        assert u.email_verified is False
        u.email_verified_at = datetime.now(UTC)
        assert u.email_verified is True


def test_a_deleted_moderators_decisions_stay_pseudonymised(app):
    with app.app_context():
        mod = UserFactory(role="moderator", email="mod.leaving@example.com")
        author = UserFactory()
        review = ReviewFactory(author=author)
        db.session.flush()
        row = audit.record(
            by=mod,
            item_type="review",
            item_id=review.id,
            action="publish",
            reason_code="meets_guidelines",
            statement="Meets the guidelines.",
            previous_status="pending",
            new_status="published",
            subject_user_id=author.id,
        )
        db.session.commit()
        row_id, mod_id, label = row.id, mod.id, row.actor_label
    client = app.test_client()
    login(client, mod_id)
    assert (
        post_form(
            client, "/account/delete", {"reviews": "remove", "password": PASSWORD}
        ).status_code
        == 302
    )
    with app.app_context():
        kept = db.session.get(ModerationDecision, row_id)
        assert kept.moderator_id is None and kept.actor_label == label == f"moderator #{mod_id}"
        assert kept.subject_user_id is not None
        assert "mod.leaving" not in (kept.statement + kept.actor_label)


def test_the_login_helper_gives_a_fresh_session_unless_told_otherwise(app):
    with app.app_context():
        user = UserFactory()
        db.session.refresh(user)
        db.session.expunge(user)
    client = app.test_client()
    login(client, user)
    assert client.get("/account/export").status_code == 200
    stale = app.test_client()
    login(stale, user, fresh=False)
    assert stale.get("/account/export").status_code == 302
