"""Hostile numbers and ids never give a 5xx (docs/security.md §17, §44; the outside audit
found 43 URLs answering 500 to `²`, `①`, `--5` or ids of 2**63).

Every route of the URL map is walked, GET and POST, by an anonymous visitor and by
an admin past the second factor who owns a clinic (so owner, moderation and admin
views run their bodies): hostile values in each `<int:...>` of the path, in each
number the view reads from the query string, and in every field of every form.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from urllib.parse import quote

import pyotp
import pytest
from flask import url_for
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict

from directory import numbers
from directory.extensions import db
from directory.search import indexer
from tests.conftest import csrf_from, login
from tests.factories import ClinicFactory, UserFactory

HOSTILE = [
    "²",
    "①",
    "--5",
    "-1",
    "0",
    "+5",
    " 5",
    "1_0",
    "٣",  # Arabic-Indic three
    "١٢٣٤٥٦",  # six Arabic-Indic digits (a second-factor code's length)
    "３",  # full-width three
    "1e3",
    "0x10",
    "NaN",
    str(2**31 - 1),  # the largest id the database holds: valid syntax, no such row
    str(2**31),  # PostgreSQL's INTEGER ends here
    str(2**63 - 1),
    str(2**63),  # SQLite's integers end here
    str(10**20),
    "9" * 5000,
    "\x00",
]
NOT_ASCII_NUMBERS = {h for h in HOSTILE if numbers.parse(h) is None}
PLACEHOLDER = 7_654_321  # stands for an int argument while a URL is built
# Names a view might read a number under. A first pass sends all of them and records
# which ones each view reads (from request.args, whatever parses them); the walk then
# tries each of those, and always `page`, which pagination helpers like to read.
CANDIDATES = (
    "page",
    "radius",
    "max_price",
    "skin_type",
    "moderator",
    "clinic",
    "author",
    "older_than",
    "per_page",
    "limit",
    "offset",
    "id",
    "user",
    "year",
)
ALWAYS = ("page",)


class RecordingArgs(ImmutableMultiDict):
    """request.args that notes every name a view looks up (the first pass only)."""

    read: set[str] = set()

    def get(self, key, default=None, type=None):  # noqa: A002
        RecordingArgs.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        RecordingArgs.read.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        RecordingArgs.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingArgs.read.add(key)
        return super().__contains__(key)


def all_form_field_names() -> set[str]:
    import directory.account.forms  # noqa: F401
    import directory.auth.forms  # noqa: F401
    import directory.manage.forms  # noqa: F401
    import directory.moderation.forms  # noqa: F401
    import directory.reviews.forms  # noqa: F401

    names: set[str] = set()
    todo = list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        try:
            form_fields = cls._unbound_fields or []
        except AttributeError:
            form_fields = []
        names.update(name for name, _ in form_fields)
        names.update(k for k, v in vars(cls).items() if hasattr(v, "field_class"))
    names.discard("csrf_token")
    return names


def build_urls(app, slug: str) -> list[tuple[str, object, str]]:
    """(endpoint, rule, url with PLACEHOLDER in each int argument)."""
    out = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            values = {}
            for arg in rule.arguments:
                conv = rule._converters[arg]
                kind = type(conv).__name__
                if isinstance(conv, numbers.IntegerConverter):
                    values[arg] = PLACEHOLDER
                elif kind == "AnyConverter":
                    values[arg] = sorted(rule._converters[arg].items)[0]
                elif kind == "PathConverter":
                    values[arg] = "x.css"
                else:
                    values[arg] = slug
            out.append((rule.endpoint, rule, url_for(rule.endpoint, **values)))
    return out


@pytest.fixture
def world(app):
    with app.app_context():
        admin = UserFactory(
            role="admin", totp_secret=pyotp.random_base32(), totp_confirmed_at=datetime.now(UTC)
        )
        clinic = ClinicFactory(owner=admin, status="claimed")
        db.session.commit()
        db.session.refresh(admin)
        db.session.expunge(admin)
        slug = clinic.slug
        db.session.rollback()
        indexer.rebuild(app.config["INDEX_DIR"])
    return admin, slug


def test_number_parsing_accepts_ascii_digits_in_range_only():
    assert numbers.parse("42") == 42
    assert numbers.parse("007") == 7
    assert numbers.parse(str(2**31 - 1)) == 2**31 - 1
    for raw in HOSTILE:
        if raw != str(2**31 - 1) and raw != "0":
            assert numbers.parse(raw) is None, raw
    assert numbers.parse("5", lo=6) is None and numbers.parse("5", hi=4) is None


def test_hostile_ids_in_paths_get_404_before_any_view(app, world):
    admin, slug = world
    client = app.test_client()
    login(client, admin, mfa=True)
    for url in ("/media/{}/web.jpg", "/moderation/reviews/{}", "/reviews/{}/followup"):
        for raw in NOT_ASCII_NUMBERS | {str(2**31), str(2**63), str(10**20)}:
            resp = client.get(url.format(quote(raw, safe="")))
            assert resp.status_code == 404, (url, raw, resp.status_code)
            assert "Page not found" in resp.get_data(as_text=True)


def test_hostile_query_numbers_get_a_400_naming_the_parameter(app, world):
    admin, _ = world
    client = app.test_client()
    login(client, admin, mfa=True)
    for url, name in (
        ("/search", "page"),
        ("/search", "radius"),
        ("/moderation/log", "moderator"),
        ("/moderation/log", "page"),
        ("/admin/users", "page"),
    ):
        for raw in ("²", "①", "--5", "٣", str(2**31), str(2**63), str(10**20)):
            resp = client.get(url, query_string={name: raw})
            assert resp.status_code == 400, (url, name, raw, resp.status_code)
            assert f"“{name}”" in resp.get_data(as_text=True)


def query_numbers_read(app, staff, urls, monkeypatch) -> dict[str, set[str]]:
    """Discovery: one GET per route with every candidate set to 1 tells which query
    numbers the view reads."""
    reads: dict[str, set[str]] = defaultdict(set)

    class RecordingRequest(app.request_class):
        parameter_storage_class = RecordingArgs

    monkeypatch.setattr(app, "request_class", RecordingRequest)
    for endpoint, rule, url in urls:
        if "GET" in rule.methods:
            RecordingArgs.read = set()
            staff.get(
                url.replace(str(PLACEHOLDER), "1"), query_string=dict.fromkeys(CANDIDATES, "1")
            ).close()
            reads[endpoint] = RecordingArgs.read & set(CANDIDATES)
    monkeypatch.undo()
    return reads


def test_the_walk_meets_routes_with_ids_and_routes_reading_query_numbers(app, world, monkeypatch):
    admin, slug = world
    staff = app.test_client()
    login(staff, admin, mfa=True)
    urls = build_urls(app, slug)
    reads = query_numbers_read(app, staff, urls, monkeypatch)
    routes_with_ids = sum(str(PLACEHOLDER) in url for _, _, url in urls)
    routes_with_query = sum(map(bool, reads.values()))
    print(f"{len(urls)} routes: {routes_with_ids} with ids, {routes_with_query} reading numbers")
    assert routes_with_ids >= 15 and routes_with_query >= 5


# The walk in parts (every third route from a start), so xdist can spread it.
PARTS = 3


@pytest.mark.parametrize("part", range(PARTS))
def test_walk_every_route_with_hostile_numbers_and_ids_finds_no_5xx(app, world, monkeypatch, part):
    admin, slug = world
    fields = all_form_field_names()
    urls = build_urls(app, slug)[part::PARTS]

    anonymous = app.test_client()
    staff = app.test_client()
    login(staff, admin, mfa=True)
    actors = {
        "anonymous": (anonymous, csrf_from(anonymous, "/auth/login")),
        "admin": (staff, csrf_from(staff, "/account")),
    }
    reads = query_numbers_read(app, staff, urls, monkeypatch)

    failures: list[tuple] = []
    wrong_status: list[tuple] = []
    requests = 0

    def check(actor, method, url, what, raw, **kw):
        nonlocal requests
        client, token = actors[actor]
        if method == "POST":
            kw["data"] = {"csrf_token": token, **{f: raw for f in fields}}
        resp = client.open(url, method=method, **kw)
        resp.close()  # file responses (photos, icons) hold their file open until closed
        requests += 1
        if resp.status_code >= 500:
            failures.append((actor, method, url, what, raw, resp.status_code))
        return resp

    routes_with_ids = routes_with_query = 0
    for endpoint, rule, url in urls:
        has_id = str(PLACEHOLDER) in url
        access = getattr(app.view_functions[endpoint], "access", None)
        routes_with_ids += has_id
        names = sorted(reads.get(endpoint, set()) | set(ALWAYS))
        routes_with_query += bool(reads.get(endpoint))
        for actor in actors:
            for method in ("GET", "POST"):
                if actor == "admin" and endpoint == "auth.logout" and method == "POST":
                    continue  # would end the walker's session; the anonymous visitor tries it
                for raw in HOSTILE:
                    quoted = quote(raw, safe="")
                    if has_id:
                        check(actor, method, url.replace(str(PLACEHOLDER), quoted), "path", raw)
                    base = url.replace(str(PLACEHOLDER), "1")
                    if method == "POST":
                        check(actor, method, base, "form fields", raw)
                        continue
                    if actor == "anonymous" and access != "public":
                        continue  # the login page answers; the admin walks these
                    for name in names:
                        resp = check(actor, method, base, f"?{name}", raw, query_string={name: raw})
                        if (
                            actor == "admin"
                            and not endpoint.startswith("api.")  # its own schema layer
                            and name in reads.get(endpoint, ())
                            and raw in NOT_ASCII_NUMBERS
                            and resp.status_code not in (400, 404)
                        ):
                            wrong_status.append((endpoint, name, raw, resp.status_code))
        # the walker must still be logged in, or the rest of the walk proves little
        assert staff.get("/account").status_code == 200, endpoint

    rules = len(urls)
    print(
        f"hostile-number walk, part {part}: {rules} routes x {len(HOSTILE)} inputs x 2 methods "
        f"x {len(actors)} actors = {requests} requests ({routes_with_ids} routes with ids, "
        f"{routes_with_query} reading query numbers, {len(fields)} form fields per POST); "
        f"5xx found: {len(failures)}"
    )
    assert failures == [], failures[:20]
    assert wrong_status == []
