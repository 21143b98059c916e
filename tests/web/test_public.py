"""Public pages: what a visitor sees, and what they never see."""

import json
import re

import pytest

from directory.extensions import db
from directory.services import scores
from tests.factories import ClinicFactory, ResultCaseFactory, ReviewFactory


@pytest.fixture
def rated(app):
    """Three clinics: the best is the cheapest-to-most-expensive opposite of its price."""
    with app.app_context():
        cheap_bad = ClinicFactory(name="Cheap Bad", slug="cheap-bad", price_min=300, price_max=400)
        pricey_good = ClinicFactory(
            name="Pricey Good",
            slug="pricey-good",
            price_min=4000,
            price_max=5000,
            city="Paris",
            country="FR",
            services=["density"],
        )
        unrated = ClinicFactory(name="Aaa Unrated", slug="unrated", price_min=100, price_max=200)
        for i in range(3):
            ReviewFactory(clinic=cheap_bad, overall=2, realism=1)
            ReviewFactory(clinic=pricey_good, overall=5, realism=5)
        for c in (cheap_bad, pricey_good, unrated):
            scores.recompute_clinic(c)
        db.session.commit()
    return app


def names(html):
    return re.findall(r'<h2 class="h5 card-title mb-1"><a href="/clinics/[^"]+">([^<]+)</a>', html)


def test_list_orders_by_quality_not_price_and_unrated_last(client, rated):
    html = client.get("/search").get_data(as_text=True)
    assert names(html) == ["Pricey Good", "Cheap Bad", "Aaa Unrated"]


def test_list_filters_by_city_and_service(client, rated):
    assert names(client.get("/search?city=paris").get_data(as_text=True)) == ["Pricey Good"]
    assert names(client.get("/search?service=density").get_data(as_text=True)) == ["Pricey Good"]


@pytest.mark.parametrize(
    "query,status",
    [
        ("page=abc", 400),
        ("page=-1", 400),
        ("page=0", 400),
        ("page=99999999999999", 400),
        ("page=50", 404),
        ("service=nonsense", 400),
        ("country=Narnia", 400),
        ("q=" + "x" * 500, 400),
        ("city=" + "y" * 500, 400),
    ],
)
def test_bad_list_parameters_get_a_clear_4xx(client, rated, query, status):
    resp = client.get("/search?" + query)
    assert resp.status_code == status
    assert "Something went wrong" not in resp.get_data(as_text=True)


def test_home_shows_search_box_and_best_rated(client, rated):
    html = client.get("/").get_data(as_text=True)
    assert 'role="search"' in html
    assert html.index("Pricey Good") < html.index("Cheap Bad")
    assert "Aaa Unrated" not in html


def test_clinic_page_shows_profile_score_explanation_and_jsonld(client, rated):
    resp = client.get("/clinics/pricey-good")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Pricey Good" in html and "Published testimonials" in html
    assert "never used to rank" in html
    data = json.loads(
        re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S).group(1)
    )
    assert data["@type"] == "MedicalBusiness"
    assert data["aggregateRating"]["ratingCount"] == 3
    assert data["geo"]["latitude"] == pytest.approx(51.5074)
    assert "priceRange" in data


def test_unrated_clinic_has_no_aggregate_rating(client, rated):
    html = client.get("/clinics/unrated").get_data(as_text=True)
    assert "aggregateRating" not in html
    assert "Not yet rated" in html


def test_unknown_slug_is_a_404_page(client, rated):
    resp = client.get("/clinics/does-not-exist")
    assert resp.status_code == 404
    assert "Page not found" in resp.get_data(as_text=True)


@pytest.mark.parametrize("status", ["suspended", "pending", "rejected"])
def test_non_public_clinics_are_hidden_everywhere(client, app, status):
    with app.app_context():
        ClinicFactory(name="Hidden One", slug="hidden-one", status=status)
    assert client.get("/clinics/hidden-one").status_code == 404
    assert "Hidden One" not in client.get("/search").get_data(as_text=True)
    assert "hidden-one" not in client.get("/sitemap.xml").get_data(as_text=True)


def test_unpublished_reviews_and_results_never_show(client, app):
    with app.app_context():
        c = ClinicFactory(slug="c1")
        ReviewFactory(clinic=c, text="PUBLISHED TEXT " * 10)
        ReviewFactory(clinic=c, text="PENDING TEXT " * 10, status="pending")
        ReviewFactory(clinic=c, text="REJECTED TEXT " * 10, status="rejected")
        ResultCaseFactory(clinic=c, status="pending", notes="PENDING CASE")
    for url in ("/clinics/c1", "/clinics/c1/reviews", "/clinics/c1/results"):
        html = client.get(url).get_data(as_text=True)
        assert "PENDING" not in html and "REJECTED" not in html
    assert "PUBLISHED TEXT" in client.get("/clinics/c1/reviews").get_data(as_text=True)


def test_reviews_page_pages_by_ten(client, app):
    with app.app_context():
        c = ClinicFactory(slug="busy")
        for i in range(12):
            ReviewFactory(clinic=c, title=f"Review number {i}")
    first = client.get("/clinics/busy/reviews").get_data(as_text=True)
    second = client.get("/clinics/busy/reviews?page=2").get_data(as_text=True)
    assert first.count('class="card review') == 10
    assert second.count('class="card review') == 2
    assert client.get("/clinics/busy/reviews?page=3").status_code == 404
    assert client.get("/clinics/busy/reviews?page=x").status_code == 400


def test_results_gallery_filters_by_case(client, app):
    with app.app_context():
        c = ClinicFactory(slug="gal")
        ResultCaseFactory(clinic=c, stage="norwood-6", notes="CASE-N6", months_since_last_session=0)
        ResultCaseFactory(
            clinic=c,
            stage="ludwig-2",
            goal="density",
            notes="CASE-L2",
            months_since_last_session=14,
        )
    html = client.get("/clinics/gal/results?stage=norwood-6").get_data(as_text=True)
    assert "CASE-N6" in html and "CASE-L2" not in html
    html = client.get("/clinics/gal/results?age=long_term").get_data(as_text=True)
    assert "CASE-L2" in html and "CASE-N6" not in html
    assert client.get("/clinics/gal/results?skin_type=9").status_code == 400
    assert client.get("/clinics/gal/results?stage=<script>").status_code == 400


def test_every_page_has_one_h1_landmarks_and_security_headers(client, rated):
    for url in (
        "/",
        "/search",
        "/clinics/pricey-good",
        "/clinics/pricey-good/reviews",
        "/clinics/pricey-good/results",
        "/clinics/missing",
    ):
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert html.count("<h1") == 1, url
        assert "<main" in html and "<nav" in html and "<footer" in html
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_bootstrap_is_served_locally_and_no_script_blocks_the_page(client, rated):
    html = client.get("/").get_data(as_text=True)
    assert "cdn.jsdelivr" not in html
    css = re.search(r'href="(/static/css/bootstrap\.min\.css\?v=\w+)"', html).group(1)
    with client.get(css) as resp:
        assert resp.status_code == 200
        assert b"Bootstrap" in resp.get_data() and b".navbar" in resp.get_data()
    # Bootstrap's JavaScript is not loaded; our own scripts are deferred.
    assert "bootstrap.min.js" not in html and "popper" not in html
    for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", html):
        assert " defer" in tag, tag


def test_robots_and_sitemap(client, rated):
    assert "Disallow: /moderation" in client.get("/robots.txt").get_data(as_text=True)
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    assert "/clinics/pricey-good" in xml and "/clinics/unrated" in xml


def test_server_error_page_is_generic_with_request_id(app_factory):
    app = app_factory(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    resp = app.test_client().get("/boom")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "secret internals" not in html and "Traceback" not in html
    assert resp.headers["X-Request-ID"] in html


def test_published_results_and_testimonials_can_be_reported_from_every_list(client, app):
    with app.app_context():
        c = ClinicFactory(slug="rep")
        case = ResultCaseFactory(clinic=c)
        review = ReviewFactory(clinic=c)
        case_id, review_id = case.id, review.id
    assert f"/report/result_case/{case_id}" in client.get("/clinics/rep/results").get_data(
        as_text=True
    )
    assert f"/report/review/{review_id}" in client.get("/clinics/rep/reviews").get_data(
        as_text=True
    )
