"""Limits on every state-changing route, per account and per origin, from configured
values (docs/security.md §46), and no clinic work for an unconfirmed address.

The outside audit: an approved owner posted 185 result cases in 25 s with no 429;
one account created 12 pending clinics and 10 claims; an account that never
confirmed its address could do both.
"""

from __future__ import annotations

import os
import re
import secrets
from io import BytesIO

import pytest
from sqlalchemy import func, select

from directory import create_app
from directory.extensions import db
from directory.guards import login_required
from directory.models import Clinic, ClinicClaim, ResultCase
from directory.ratelimits import limited
from tests.conftest import csrf_from, login, make_config
from tests.factories import ClinicFactory, UserFactory, image_bytes

LIMIT = re.compile(r"\d+/(second|minute|hour|day)(;\d+/(second|minute|hour|day))*")
EXEMPT = {"static", "bootstrap.static"}


def state_changing_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.methods & {"POST", "PUT", "PATCH", "DELETE"}),
        key=lambda r: r.endpoint,
    )


def unlimited_post_routes(app) -> list[str]:
    return [
        r.endpoint
        for r in state_changing_rules(app)
        if r.endpoint not in EXEMPT
        and not getattr(app.view_functions[r.endpoint], "rate_limits", ())
    ]


def test_every_post_route_carries_a_configured_limit(app):
    rules = state_changing_rules(app)
    assert unlimited_post_routes(app) == []
    names = set()
    for rule in rules:
        for name in app.view_functions[rule.endpoint].rate_limits:
            assert LIMIT.fullmatch(app.config[name]), (rule.endpoint, name)
            names.add(name)
    print(
        f"rate-limit walk: {len(rules)} POST routes checked, 0 without a limit; "
        f"{len(names)} configured limits in use: {', '.join(sorted(names))}"
    )
    assert {"RATELIMIT_UPLOAD", "RATELIMIT_CLAIM", "RATELIMIT_REVIEW"} <= names
    assert app.view_functions["public.search"].rate_limits == ("RATELIMIT_SEARCH",)


def test_a_new_post_route_without_a_limit_fails_the_walk(app_factory):
    app = app_factory()

    @login_required
    def oops():
        return "changed"

    app.add_url_rule("/oops", "oops", oops, methods=["POST"])
    assert unlimited_post_routes(app) == ["oops"]

    @limited("RATELIMIT_WRITE")
    @login_required
    def fine():
        return "changed"

    app.add_url_rule("/fine", "fine", fine, methods=["POST"])
    assert unlimited_post_routes(app) == ["oops"]


# --- the audit's findings, one by one ----------------------------------------------------


def _user(app, **kw):
    with app.app_context():
        user = UserFactory(**kw)
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def _client(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _result_form(token: str) -> dict:
    return {
        "csrf_token": token,
        "before": (BytesIO(image_bytes(seed=11)), "before.jpg"),
        "after": (BytesIO(image_bytes(seed=12)), "after.jpg"),
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


PROFILE = dict(
    description="Natural hairlines.",
    city="London",
    country="GB",
    services=["full_scalp"],
    currency="GBP",
    works_there="y",
)


def test_an_owner_posting_result_cases_in_a_burst_gets_429(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_UPLOAD="3/hour")
    owner = _user(app, role="clinic_owner")
    with app.app_context():
        slug = ClinicFactory(owner_id=owner.id, status="claimed").slug
    client = _client(app, "10.9.1.1")
    login(client, owner)
    token = csrf_from(client, f"/manage/{slug}/results/new")
    statuses = [
        client.post(f"/manage/{slug}/results/new", data=_result_form(token)).status_code
        for _ in range(5)
    ]
    print(f"result cases in a burst: statuses {statuses}")
    assert statuses == [302, 302, 302, 429, 429]
    assert _count(app, ResultCase) == 3
    # The page is still there to read; only sending counts.
    assert client.get(f"/manage/{slug}/results/new").status_code == 200


def test_one_account_claiming_and_registering_clinics_in_a_row_gets_429(app_factory):
    app = app_factory(
        RATELIMIT_ENABLED=True, RATELIMIT_CLAIM="2/hour", RATELIMIT_NEW_CLINIC="2/day"
    )
    user = _user(app)
    with app.app_context():
        slugs = [ClinicFactory().slug for _ in range(4)]
    client = _client(app, "10.9.2.1")
    login(client, user)
    token = csrf_from(client, "/manage/clinics/new")
    claims = [
        client.post(
            f"/manage/claim/{slug}",
            data={"csrf_token": token, "role_at_clinic": "Manager", "phone": "12345"},
        ).status_code
        for slug in slugs
    ]
    new = [
        client.post(
            "/manage/clinics/new",
            data={"csrf_token": token, "name": f"Burst Ink {i}", **PROFILE},
        ).status_code
        for i in range(4)
    ]
    print(f"claims {claims}, new clinics {new}")
    assert claims == [302, 302, 429, 429] and new == [302, 302, 429, 429]
    assert _count(app, ClinicClaim) == 2
    with app.app_context():
        pending = db.session.execute(
            select(func.count()).select_from(Clinic).where(Clinic.status == "pending")
        ).scalar_one()
    assert pending == 2


def test_the_limit_holds_per_account_across_addresses_and_per_origin_across_accounts(
    app_factory,
):
    app = app_factory(
        RATELIMIT_ENABLED=True, RATELIMIT_CLAIM="2/hour", RATELIMIT_CLAIM_ORIGIN="3/hour"
    )
    with app.app_context():
        slugs = [ClinicFactory().slug for _ in range(8)]
    # One account, a new address for every claim: the per-account count still holds.
    user = _user(app)
    statuses = []
    for i, slug in enumerate(slugs[:3]):
        client = _client(app, f"10.9.3.{i + 1}")
        login(client, user)
        token = csrf_from(client, "/manage/clinics/new")
        statuses.append(
            client.post(
                f"/manage/claim/{slug}",
                data={"csrf_token": token, "role_at_clinic": "Manager", "phone": "12345"},
            ).status_code
        )
    assert statuses == [302, 302, 429]
    # Several fresh accounts from one address: the per-origin count holds (3/hour).
    statuses = []
    for slug in slugs[3:7]:
        client = _client(app, "10.9.4.1")
        login(client, _user(app))
        token = csrf_from(client, "/manage/clinics/new")
        statuses.append(
            client.post(
                f"/manage/claim/{slug}",
                data={"csrf_token": token, "role_at_clinic": "Manager", "phone": "12345"},
            ).status_code
        )
    print(f"per origin across accounts: {statuses}")
    assert statuses == [302, 302, 302, 429]


def test_search_is_limited_per_origin(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="3/minute")
    client = _client(app, "10.9.5.1")
    # Each new search runs the engine and counts (a page the cache already holds
    # does not: tests/web/test_page_cache_hit_path.py).
    words = ["hairline", "scar", "density", "crown"]
    statuses = [client.get("/search", query_string={"q": w}).status_code for w in words]
    assert statuses[3] == 429 and 429 not in statuses[:3]
    assert "Too many requests" in client.get("/search").get_data(as_text=True)
    # Another address is not affected.
    assert _client(app, "10.9.5.2").get("/search").status_code != 429


# --- an unconfirmed address cannot register, claim or upload ------------------------------


@pytest.mark.parametrize(
    "path",
    ["/manage/claim/{free}", "/manage/clinics/new", "/manage/{own}/results/new"],
)
def test_an_unconfirmed_account_cannot_register_claim_or_upload(app, path):
    user = _user(app, role="clinic_owner", email_verified_at=None)
    with app.app_context():
        own = ClinicFactory(owner_id=user.id, status="claimed").slug
        free = ClinicFactory().slug
    url = path.format(own=own, free=free)
    client = app.test_client()
    login(client, user)
    resp = client.get(url)
    assert resp.status_code == 403
    assert "confirm your e-mail address first" in resp.get_data(as_text=True)
    token = csrf_from(client, "/account")
    before = (_count(app, Clinic), _count(app, ClinicClaim), _count(app, ResultCase))
    data = {"csrf_token": token, "name": "Sneaky Ink", "role_at_clinic": "Owner", **PROFILE}
    if "results" in url:
        data = _result_form(token)
    resp = client.post(url, data=data)
    assert resp.status_code == 403
    assert (_count(app, Clinic), _count(app, ClinicClaim), _count(app, ResultCase)) == before
    # Once the address is confirmed, the same page opens.
    with app.app_context():
        from datetime import UTC, datetime

        from directory.models import User

        db.session.get(User, user.id).email_verified_at = datetime.now(UTC)
        db.session.commit()
    assert client.get(url).status_code == 200


REDIS = os.environ.get("DIRECTORY_TEST_REDIS_URI")


@pytest.mark.skipif(not REDIS, reason="DIRECTORY_TEST_REDIS_URI not set")
def test_a_limit_holds_exactly_across_two_workers_sharing_redis(app_factory, tmp_path, worker_id):
    """Two app instances (two workers) on one database and one Redis: requests
    alternate between them and the count is still exact."""
    cfg = dict(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=REDIS,
        RATELIMIT_KEY_PREFIX="test-" + secrets.token_hex(6),
        RATELIMIT_CLAIM="3/hour",
    )
    first = app_factory(**cfg)
    second = create_app(make_config(tmp_path, worker_id, **cfg))
    user = _user(first)
    with first.app_context():
        slugs = [ClinicFactory().slug for _ in range(6)]
    statuses = []
    for i, slug in enumerate(slugs):
        client = _client(first if i % 2 == 0 else second, f"10.9.6.{i + 1}")
        login(client, user)
        token = csrf_from(client, "/manage/clinics/new")
        statuses.append(
            client.post(
                f"/manage/claim/{slug}",
                data={"csrf_token": token, "role_at_clinic": "Manager", "phone": "12345"},
            ).status_code
        )
    with second.app_context():
        db.engine.dispose()
    assert statuses == [302, 302, 302, 429, 429, 429]
    assert _count(first, ClinicClaim) == 3
