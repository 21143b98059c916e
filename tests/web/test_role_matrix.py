"""Role x route matrix over every state-changing (POST) route (docs/security.md §10, §11).

A world with anonymous, two consumers, two clinic owners (each owning a clinic), a
moderator and an admin (both past their second factor). For each POST route the
table says how to build its URL and valid form data and which roles may do it.
Every cell is tried: allowed means neither 401/403/404 nor a login redirect;
refused means a login redirect, 403 or 404, and the database unchanged.
When merging, add a row for each new POST route: a test fails on any POST
endpoint missing from the table.

Each endpoint gets a fresh app on the world as built (built once per part of the
table, then restored row by row before each endpoint), and its seven roles share it. Where an
earlier role's allowed request would change what a later role meets (a moderation
item already decided), the url callable takes the role and aims at the role's own
copy of the item (build_world makes one per role). Allowed cells answered 400/409
still count as allowed access (not a refusal); they are printed for review.
"""

from __future__ import annotations

import inspect
import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import ClinicClaim, User
from directory.services import accounts, media, reports
from directory.services import moderation as mod
from directory.services import reviews as review_service
from tests.conftest import csrf_from, login
from tests.factories import (
    PASSWORD,
    ClinicFactory,
    PractitionerFactory,
    ResultCaseFactory,
    ReviewFactory,
    UserFactory,
    image_bytes,
)
from tests.reviews_helpers import form_data, months_ago

ROLES = ("anonymous", "consumer1", "consumer2", "owner1", "owner2", "moderator", "admin")
ALL = frozenset(ROLES)
LOGGED_IN = ALL - {"anonymous"}
STAFF = frozenset({"moderator", "admin"})
ADMIN = frozenset({"admin"})
OWNER1 = frozenset({"owner1"})
CONSUMER1 = frozenset({"consumer1"})
_n = itertools.count(1)


@dataclass
class World:
    ids: dict
    secrets: dict


def build_world(app) -> World:
    with app.app_context():
        now = datetime.now(UTC)
        users = {
            "consumer1": UserFactory(),
            "consumer2": UserFactory(),
            "owner1": UserFactory(role="clinic_owner"),
            "owner2": UserFactory(role="clinic_owner"),
            "moderator": UserFactory(
                role="moderator", totp_secret=pyotp.random_base32(), totp_confirmed_at=now
            ),
            "admin": UserFactory(
                role="admin", totp_secret=pyotp.random_base32(), totp_confirmed_at=now
            ),
            "target": UserFactory(),
            "unverified": UserFactory(email_verified_at=None),
        }
        # A third moderator, not one of the roles: the original decider of the appealed items,
        # so the matrix's moderator and admin are each "a different moderator".
        users["moderator0"] = UserFactory(role="moderator")
        clinic1 = ClinicFactory(owner=users["owner1"], status="claimed")
        clinic2 = ClinicFactory(owner=users["owner2"], status="claimed")
        db.session.commit()
        ids = {k: u.id for k, u in users.items()}
        ids.update({f"{k}_email": u.email for k, u in users.items()})
        ids.update(clinic1=clinic1.slug, clinic2=clinic2.slug)

        # owner1's clinic: a practitioner, and consumer1's published testimonial whose last
        # session is 9 months ago (a follow-up is due), for reply, report, follow-up, delete.
        ids["practitioner1"] = PractitionerFactory(clinic=clinic1).id
        ids["review1"] = ReviewFactory(
            clinic=clinic1, author=users["consumer1"], last_session_month=months_ago(9)
        ).id
        # consumer1's rejected testimonial (on owner2's clinic) with its decision: appealable.
        rejected = ReviewFactory(
            clinic=clinic2, author=users["consumer1"], status="pending", published_at=None
        )
        mod.decide(
            rejected,
            "reject",
            by=users["moderator0"],
            reason_code="spam",
            statement="Advertising, not an experience.",
        )
        ids["rejected1"] = rejected.id
        # Listed clinics nobody owns or claims: one to claim, one to write a testimonial about.
        ids["claimable"] = ClinicFactory().slug
        ids["reviewable"] = ClinicFactory().slug
        ids["suspendable"] = ClinicFactory().id

        # Moderation queues: every role gets its own copy of each item, so a decision by the
        # moderator does not turn the admin's attempt into a stale-state 409 (and a refused
        # role tries an item that is still decidable). No item is authored by, submitted by
        # or about a clinic of the matrix's moderator or admin ("never your own item").
        stage = [ClinicFactory() for _ in range(3)]
        queues = {
            k: {}
            for k in (
                "pending_review",
                "followup",
                "photo",
                "report",
                "appeal",
                "claim",
                "new_clinic",
                "result",
            )
        }
        for i, role in enumerate(ROLES):
            author = UserFactory()
            queues["pending_review"][role] = ReviewFactory(
                clinic=stage[0], author=author, status="pending", published_at=None
            ).id
            published = ReviewFactory(
                clinic=stage[1], author=author, last_session_month=months_ago(14)
            )
            queues["followup"][role] = review_service.add_followup(
                published, by=author, text="A year on, the result still looks sharp.", healing=5
            ).id
            photo = media.ingest(
                image_bytes(seed=100 + i),
                uploader_id=author.id,
                kind="review",
                consent=True,
                review_id=published.id,
                clinic_id=published.clinic_id,
            )
            db.session.flush()  # ingest only stages the row
            queues["photo"][role] = photo.id
            queues["report"][role] = reports.file(
                "review",
                published.id,
                by=users["consumer2"],
                reason="fake",
                text="Looks copied from another site.",
            ).id
            bad = ReviewFactory(clinic=stage[2], author=author, status="pending", published_at=None)
            mod.decide(
                bad,
                "reject",
                by=users["moderator0"],
                reason_code="spam",
                statement="Advertising, not an experience.",
            )
            queues["appeal"][role] = mod.file_appeal(
                "review", bad.id, by=author, text="It is my genuine experience, look again."
            ).id
            claim = ClinicClaim(
                clinic_id=ClinicFactory().id,
                user_id=users["consumer2"].id,
                role_at_clinic="Manager",
                status="pending",
            )
            db.session.add(claim)
            db.session.flush()
            queues["claim"][role] = claim.id
            queues["new_clinic"][role] = ClinicFactory(
                status="pending", submitted_by_id=users["consumer2"].id
            ).id
            queues["result"][role] = ResultCaseFactory(
                clinic=clinic1, status="pending", submitted_by_id=users["owner1"].id
            ).id
        db.session.commit()
        ids.update(queues)
        secrets = {k: users[k].totp_secret for k in ("moderator", "admin")}
    return World(ids, secrets)


def _in_app(app, fn):
    with app.app_context():
        return fn()


def verify_url(app, w: World) -> str:
    def make():
        user = db.session.get(User, w.ids["unverified"])
        return "/auth/verify/" + accounts.make_verify_token(user)

    return _in_app(app, make)


def unsubscribe_url(app, w: World) -> str:
    def make():
        from directory import reminders

        return "/reminders/unsubscribe/" + reminders.unsubscribe_token(
            db.session.get(User, w.ids["target"])
        )

    return _in_app(app, make)


def reset_url(app, w: World) -> str:
    def make():
        return "/auth/reset/" + accounts.make_reset_token(db.session.get(User, w.ids["target"]))

    return _in_app(app, make)


@dataclass
class Row:
    url: Callable  # (app, world) or (app, world, role) -> url
    data: Callable  # (app, world, role) -> form data
    allowed: frozenset


def row_url(row: Row, app, w: World, role: str) -> str:
    if len(inspect.signature(row.url).parameters) == 3:
        return row.url(app, w, role)
    return row.url(app, w)


def unique_email(prefix: str) -> str:
    return f"{prefix}{next(_n)}@example.com"


PROFILE = dict(
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
DECISION = {
    "reason_code": "meets_guidelines",
    "statement": "Checked against the guidelines; the reasons are on file.",
}


def result_form() -> dict:
    return {
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


def queue_url(path: str, key: str) -> Callable:
    """A moderation URL aimed at the role's own copy of the item (see build_world)."""
    return lambda a, w, r: path.format(w.ids[key][r])


TABLE: dict[str, Row] = {
    "auth.register": Row(
        lambda a, w: "/auth/register",
        lambda a, w, r: {
            "email": unique_email("new"),
            "display_name": "New",
            "password": "a long new passphrase",
        },
        ALL,
    ),
    "auth.login": Row(
        lambda a, w: "/auth/login",
        lambda a, w, r: {"email": w.ids["target_email"], "password": PASSWORD},
        ALL,
    ),
    "auth.logout": Row(lambda a, w: "/auth/logout", lambda a, w, r: {}, LOGGED_IN),
    "auth.verify_confirm": Row(verify_url, lambda a, w, r: {}, ALL),
    "auth.resend_verification": Row(
        lambda a, w: "/auth/verify/resend", lambda a, w, r: {}, LOGGED_IN
    ),
    "auth.reset_request": Row(
        lambda a, w: "/auth/reset", lambda a, w, r: {"email": w.ids["target_email"]}, ALL
    ),
    "ops.unsubscribe": Row(unsubscribe_url, lambda a, w, r: {}, ALL),
    "auth.reset_token": Row(reset_url, lambda a, w, r: {"password": f"reset passphrase {r}"}, ALL),
    "auth.totp_setup": Row(
        lambda a, w: "/auth/totp/setup", lambda a, w, r: {"code": "123456"}, STAFF
    ),
    "auth.totp_verify": Row(
        lambda a, w: "/auth/totp",
        lambda a, w, r: {"code": pyotp.TOTP(w.secrets.get(r) or pyotp.random_base32()).now()},
        STAFF,
    ),
    "account.password": Row(
        lambda a, w: "/account/password",
        lambda a, w, r: {"current": PASSWORD, "password": "a changed passphrase"},
        LOGGED_IN,
    ),
    "account.email": Row(
        lambda a, w: "/account/email",
        lambda a, w, r: {"email": unique_email("moved"), "password": PASSWORD},
        LOGGED_IN,
    ),
    "account.delete": Row(
        lambda a, w: "/account/delete",
        lambda a, w, r: {"reviews": "remove", "password": PASSWORD},
        LOGGED_IN,
    ),
    "admin.set_role": Row(
        lambda a, w: f"/admin/users/{w.ids['target']}/role",
        lambda a, w, r: {"role": "moderator", "statement": "Trusted community member."},
        ADMIN,
    ),
    # --- clinic self-service: any logged-in user may claim a listed, unowned clinic or
    # register a new one; only a clinic's owner manages it (owner2, staff: 403 on owner1's).
    # Only the claimant (consumer2 made every queued claim) may type the code back.
    "manage.confirm_claim_email": Row(
        queue_url("/manage/claims/{}/confirm", "claim"),
        lambda a, w, r: {"code": "000000", "action": "confirm"},
        frozenset({"consumer2"}),
    ),
    "manage.claim": Row(
        lambda a, w: f"/manage/claim/{w.ids['claimable']}",
        lambda a, w, r: {"role_at_clinic": "Manager", "phone": "12345"},
        LOGGED_IN,
    ),
    "manage.new_clinic": Row(
        lambda a, w: "/manage/clinics/new",
        lambda a, w, r: dict(PROFILE, name=f"New Ink {r}", works_there="y"),
        LOGGED_IN,
    ),
    "manage.edit": Row(
        lambda a, w: f"/manage/{w.ids['clinic1']}/edit",
        lambda a, w, r: dict(PROFILE, name="Edited Clinic"),
        OWNER1,
    ),
    "manage.practitioners": Row(
        lambda a, w: f"/manage/{w.ids['clinic1']}/practitioners",
        lambda a, w, r: {"name": f"Added by {r}", "years_practice": "3"},
        OWNER1,
    ),
    "manage.edit_practitioner": Row(
        lambda a, w: f"/manage/{w.ids['clinic1']}/practitioners/{w.ids['practitioner1']}",
        lambda a, w, r: {"name": f"Renamed by {r}"},
        OWNER1,
    ),
    "manage.retire_practitioner": Row(
        lambda a, w: f"/manage/{w.ids['clinic1']}/practitioners/{w.ids['practitioner1']}/retire",
        lambda a, w, r: {},
        OWNER1,
    ),
    "manage.new_result": Row(
        lambda a, w: f"/manage/{w.ids['clinic1']}/results/new",
        lambda a, w, r: result_form(),
        OWNER1,
    ),
    "manage.reply": Row(
        lambda a, w: f"/manage/{w.ids['clinic1']}/reviews/{w.ids['review1']}/reply",
        lambda a, w, r: {"text": f"Thank you for your words ({r})."},
        OWNER1,
    ),
    # --- testimonials: any verified user not linked to the clinic may write one (the target
    # clinic is owned and claimed by nobody); only the author may follow up, delete or
    # appeal (others get 404); anyone logged in may report, except the item's own author.
    "reviews.write": Row(
        lambda a, w: f"/clinics/{w.ids['reviewable']}/review",
        lambda a, w, r: form_data(),
        LOGGED_IN,
    ),
    "reviews.followup": Row(
        lambda a, w: f"/reviews/{w.ids['review1']}/followup",
        lambda a, w, r: {"text": "Nine months on, no fading at all.", "healing": "5"},
        CONSUMER1,
    ),
    "reviews.delete": Row(
        lambda a, w: f"/reviews/{w.ids['review1']}/delete", lambda a, w, r: {}, CONSUMER1
    ),
    "reviews.report": Row(
        lambda a, w: f"/report/review/{w.ids['review1']}",
        lambda a, w, r: {"reason": "fake", "text": f"Reported by {r}."},
        LOGGED_IN - CONSUMER1,
    ),
    "reviews.appeal": Row(
        lambda a, w: f"/appeal/review/{w.ids['rejected1']}",
        lambda a, w, r: {"text": "It is my genuine experience, look again."},
        CONSUMER1,
    ),
    # --- moderation: moderators and admins (past their second factor) only; none of the
    # items is their own or about a clinic they own.
    "moderation.decide_review": Row(
        queue_url("/moderation/reviews/{}/decide", "pending_review"),
        lambda a, w, r: dict(DECISION, action="publish"),
        STAFF,
    ),
    "moderation.decide_followup": Row(
        queue_url("/moderation/followups/{}/decide", "followup"),
        lambda a, w, r: dict(DECISION, action="publish"),
        STAFF,
    ),
    "moderation.decide_photo": Row(
        queue_url("/moderation/photos/{}/decide", "photo"),
        lambda a, w, r: dict(DECISION, action="publish"),
        STAFF,
    ),
    "moderation.decide_report": Row(
        queue_url("/moderation/reports/{}/decide", "report"),
        lambda a, w, r: dict(DECISION, action="keep"),
        STAFF,
    ),
    "moderation.decide_appeal": Row(
        queue_url("/moderation/appeals/{}/decide", "appeal"),
        lambda a, w, r: dict(DECISION, action="uphold"),
        STAFF,
    ),
    "moderation.decide_claim": Row(
        queue_url("/moderation/claims/{}/decide", "claim"),
        lambda a, w, r: dict(DECISION, action="approve"),
        STAFF,
    ),
    "moderation.decide_clinic": Row(
        queue_url("/moderation/clinics/{}/decide", "new_clinic"),
        lambda a, w, r: dict(DECISION, action="publish"),
        STAFF,
    ),
    "moderation.take": Row(
        queue_url("/moderation/items/review/{}/take", "pending_review"),
        lambda a, w, r: {},
        STAFF,
    ),
    "moderation.release": Row(
        queue_url("/moderation/items/review/{}/release", "pending_review"),
        lambda a, w, r: {},
        STAFF,
    ),
    "moderation.set_clinic_status": Row(
        lambda a, w: f"/moderation/clinics/{w.ids['suspendable']}/status",
        lambda a, w, r: dict(DECISION, action="suspend", reason_code="offensive"),
        STAFF,
    ),
    "moderation.decide_result": Row(
        queue_url("/moderation/results/{}/decide", "result"),
        lambda a, w, r: dict(DECISION, action="publish"),
        STAFF,
    ),
}


def snapshot(app) -> dict:
    """Every row of every table (dicts, in key order): compared before and after a
    refused request, and what restore() writes back."""

    def read():
        out = {}
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(r._mapping) for r in rows]
        return out

    return _in_app(app, read)


def client_for(app, w: World, role: str):
    client = app.test_client()
    if role != "anonymous":
        login(client, w.ids[role], mfa=role in STAFF)
    return client


def is_login_redirect(resp) -> bool:
    # Guards send the visitor to log in *with* a next= back to the page; a plain
    # redirect to /auth/login is how successful resets and verifications end.
    return (
        resp.status_code in (301, 302, 303)
        and resp.location.startswith("/auth/login?")
        and "next=" in resp.location
    )


def test_every_post_endpoint_is_in_the_matrix(app):
    posts = sorted({r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods})
    missing = [e for e in posts if e not in TABLE]
    print(f"POST endpoints: {len(posts)}; missing from the matrix: {missing}")
    assert missing == []


# The table in parts, so xdist can spread them over its workers.
PARTS = 4


def saved_state(app) -> tuple[dict, Path]:
    """Every row of every table, and a copy of the instance folder (media files)."""
    copy = Path(app.instance_path).with_name("instance-saved")
    shutil.copytree(app.instance_path, copy)
    return snapshot(app), copy


def restore(app, state: tuple[dict, Path]) -> None:
    """Put the database and the instance folder back as saved_state found them."""
    rows, copy = state

    def write():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            for table in db.metadata.sorted_tables:
                if rows[table.name]:
                    conn.execute(table.insert(), rows[table.name])

    _in_app(app, write)
    shutil.rmtree(app.instance_path)
    shutil.copytree(copy, app.instance_path)


def test_restore_gives_back_the_world_as_it_was(app_factory):
    """The matrix builds its world once and restores it before each route: after a
    route has changed it, every row (and id) is as built, in a new app too."""
    app = app_factory()
    world = build_world(app)
    built, state = snapshot(app), saved_state(app)
    client = client_for(app, world, "consumer1")
    resp = client.post(
        "/account/delete",
        data={
            "reviews": "remove",
            "password": PASSWORD,
            "csrf_token": csrf_from(client, "/account/delete"),
        },
    )
    assert resp.status_code == 302 and snapshot(app) != built
    again = app_factory(fresh_schema=False)
    restore(again, state)
    assert snapshot(again) == built


@pytest.mark.parametrize("part", range(PARTS))
def test_role_matrix(app_factory, part):
    cells = 0
    mismatches = []
    answered = []  # allowed cells that got in but were answered 400/409 (bad input, stale state)
    endpoints = list(TABLE)[part::PARTS]
    app = app_factory()
    world = build_world(app)
    state = saved_state(app)
    for n, endpoint in enumerate(endpoints):
        row = TABLE[endpoint]
        if n:  # a new app (no state kept in the process) on the world as built
            app = app_factory(fresh_schema=False)
            restore(app, state)
        for role in ROLES:
            client = client_for(app, world, role)
            url = row_url(row, app, world, role)
            data = dict(row.data(app, world, role))
            data["csrf_token"] = csrf_from(client, "/auth/reset")
            before = snapshot(app)
            resp = client.post(url, data=data)
            cells += 1
            refused = resp.status_code in (401, 403, 404) or is_login_redirect(resp)
            if role in row.allowed:
                if resp.status_code >= 400 and not refused:
                    answered.append((endpoint, role, resp.status_code))
                if refused or resp.status_code >= 500:
                    mismatches.append(
                        (endpoint, role, "should be allowed", resp.status_code, resp.location)
                    )
            else:
                if not refused:
                    mismatches.append(
                        (endpoint, role, "should be refused", resp.status_code, resp.location)
                    )
                elif snapshot(app) != before:
                    mismatches.append(
                        (endpoint, role, "refused but the database changed", resp.status_code, None)
                    )
    print(
        f"role matrix, part {part}: {len(endpoints)} POST routes x {len(ROLES)} roles = "
        f"{cells} cells, {len(mismatches)} mismatches"
    )
    for m in mismatches:
        print("  mismatch:", m)
    for a in answered:
        print("  allowed, but answered:", a)
    assert mismatches == []


def test_staff_are_refused_on_their_own_items(app):
    """The matrix keeps staff clear of their own items; this is the other side of the rule:
    a moderator or admin never decides on their own item, a clinic they own, their own
    claim, or an appeal against their own decision (403, nothing changes)."""
    world = build_world(app)
    with app.app_context():
        moderator = db.session.get(User, world.ids["moderator"])
        admin = db.session.get(User, world.ids["admin"])
        own_review = ReviewFactory(
            clinic=ClinicFactory(), author=moderator, status="pending", published_at=None
        )
        own_clinic = ClinicFactory(owner=moderator, status="claimed")
        about_own_clinic = ResultCaseFactory(
            clinic=own_clinic, status="pending", submitted_by_id=world.ids["owner1"]
        )
        own_claim = ClinicClaim(
            clinic_id=ClinicFactory().id,
            user_id=moderator.id,
            role_at_clinic="Manager",
            status="pending",
        )
        db.session.add(own_claim)
        author = UserFactory()
        rejected = ReviewFactory(
            clinic=ClinicFactory(), author=author, status="pending", published_at=None
        )
        mod.decide(
            rejected,
            "reject",
            by=admin,
            reason_code="spam",
            statement="Advertising, not an experience.",
        )
        appeal = mod.file_appeal(
            "review", rejected.id, by=author, text="It is my genuine experience, look again."
        )
        db.session.commit()
        cases = [
            (
                "moderator",
                f"/moderation/reviews/{own_review.id}/decide",
                dict(DECISION, action="publish"),
            ),
            (
                "moderator",
                f"/moderation/results/{about_own_clinic.id}/decide",
                dict(DECISION, action="publish"),
            ),
            (
                "moderator",
                f"/moderation/claims/{own_claim.id}/decide",
                dict(DECISION, action="approve"),
            ),
            ("admin", f"/moderation/appeals/{appeal.id}/decide", dict(DECISION, action="uphold")),
        ]
    for role, url, data in cases:
        client = client_for(app, world, role)
        before = snapshot(app)
        resp = client.post(url, data={**data, "csrf_token": csrf_from(client, "/auth/reset")})
        assert resp.status_code == 403, (role, url, resp.status_code)
        assert snapshot(app) == before, (role, url)
