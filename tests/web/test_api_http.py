"""The API's HTTP behaviour: the document, conditional GET, CORS, rate limits,
problem+json errors, and the documentation page's local assets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openapi_spec_validator import validate

from directory import services
from directory.extensions import db
from directory.models import Clinic
from directory.search import indexer
from directory.services import scores
from tests.factories import ClinicFactory, ReviewFactory


def seeded(app):
    with app.app_context():
        clinic = ClinicFactory(name="Atelier Test", slug="atelier-test")
        ReviewFactory(clinic=clinic, overall=5, realism=5)
        ReviewFactory(clinic=clinic, overall=3)
        scores.recompute_clinic(clinic)
        services.commit()
        indexer.rebuild(app.config["INDEX_DIR"])
    return app.test_client()


def test_the_document_is_valid_openapi_3_1_with_every_operation(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    ops = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert ops == {
        "searchClinics",
        "getClinic",
        "listClinicResults",
        "listClinicTestimonials",
        "getResult",
        "getTestimonial",
        "suggestPlaces",
        "getScoreMethod",
        "getTransparency",
    }
    # Every operation is a GET, and price is never an order.
    assert all(set(item) == {"get"} for item in doc["paths"].values())
    sort = next(
        p for p in doc["paths"]["/api/v1/clinics"]["get"]["parameters"] if p["name"] == "sort"
    )
    assert "price" not in sort["schema"]["enum"]


def test_etag_and_last_modified_give_304(app):
    client = seeded(app)
    first = client.get("/api/v1/clinics/atelier-test")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/clinics/atelier-test", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    since = client.get(
        "/api/v1/clinics/atelier-test",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert since.status_code == 304
    long_ago = (datetime.now(UTC) - timedelta(days=400)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert (
        client.get(
            "/api/v1/clinics/atelier-test", headers={"If-Modified-Since": long_ago}
        ).status_code
        == 200
    )
    # A change to the clinic changes the validator.
    with app.app_context():
        clinic = db.session.execute(
            db.select(Clinic).where(Clinic.slug == "atelier-test")
        ).scalar_one()
        clinic.description = "Now with a longer description."
        db.session.commit()
    changed = client.get("/api/v1/clinics/atelier-test", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_cors_allows_get_from_any_origin_and_answers_preflight(app):
    client = seeded(app)
    r = client.get("/api/v1/clinics", headers={"Origin": "https://elsewhere.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in r.headers["Access-Control-Expose-Headers"]
    pre = client.options(
        "/api/v1/clinics",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in pre.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in pre.headers
    # Writes do not exist.
    post = client.post("/api/v1/clinics")
    assert post.status_code == 405
    assert post.mimetype == "application/problem+json"


def test_rate_limit_per_address_with_ratelimit_headers_and_a_problem(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_API="3/minute")
    client = app.test_client()
    answers = [client.get("/api/v1/score-method") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert answers[0].headers["RateLimit-Policy"] == "3;w=60"
    assert 0 < int(answers[0].headers["RateLimit-Reset"]) <= 60
    over = client.get("/api/v1/score-method")
    assert over.status_code == 429
    assert over.mimetype == "application/problem+json"
    assert over.get_json()["status"] == 429
    assert int(over.headers["Retry-After"]) > 0
    # Another address has its own allowance.
    other = client.get("/api/v1/score-method", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_errors_are_problem_details(app):
    client = seeded(app)
    bad = client.get("/api/v1/clinics?sort=price")
    assert bad.status_code == 400
    assert bad.mimetype == "application/problem+json"
    body = bad.get_json()
    assert body["status"] == 400 and "sort" in body["detail"]
    for url in ("/api/v1/clinics/nobody", "/api/v1/nothing-here", "/api/v1/testimonials/999"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.mimetype == "application/problem+json"
        assert r.get_json()["instance"] == url
    assert client.get("/api/v1/clinics?page=99").status_code == 404
    assert client.get("/api/v1/places?q=" + "x" * 61).status_code == 400


def test_search_pages_link_to_each_other(app):
    client = seeded(app)
    with app.app_context():
        for i in range(3):
            ClinicFactory(name=f"Extra {i}")
        indexer.rebuild(app.config["INDEX_DIR"])
    first = client.get("/api/v1/clinics?per_page=2&country=gb").get_json()
    assert first["total"] == 4 and first["pages"] == 2
    assert first["items"][0]["slug"] == "atelier-test"  # the only rated clinic comes first
    assert first["links"]["next"].endswith("/api/v1/clinics?per_page=2&country=gb&page=2")
    second = client.get(first["links"]["next"].removeprefix("http://localhost")).get_json()
    assert second["links"]["next"] is None
    assert {c["slug"] for c in first["items"] + second["items"]} >= {"atelier-test"}
    item = first["items"][0]
    assert item["score"]["testimonials"] == 2
    assert item["score"]["plain_mean_overall"] == 4.0
    assert item["urls"]["api"] == "http://localhost/api/v1/clinics/atelier-test"


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "https://" not in html.replace("https://schema.org", "")
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/api/v1/docs/assets/{name}" in html
        asset = client.get(f"/api/v1/docs/assets/{name}")
        assert asset.status_code == 200 and len(asset.get_data()) > 10_000
    assert client.get("/api/v1/docs/assets/../../etc/passwd").status_code == 404
    assert client.get("/api/v1/docs/assets/other.js").status_code == 404
