"""The guide, the cost estimate and the comparison pages."""

import re

import pytest

from directory.extensions import db
from directory.services import costs, scores
from tests.factories import ClinicFactory, ReviewFactory


def test_guide_explains_risks_and_links_onward(client, app):
    html = client.get("/guide").get_data(as_text=True)
    assert "laser removal" in html and "healed" in html
    assert 'href="/cost"' in html and 'href="/search"' in html


def test_cost_estimate_comes_from_prices_paid_and_listed_in_the_country(client, app):
    with app.app_context():
        fr = [
            ClinicFactory(country="FR", currency="EUR", price_min=1000, price_max=2000),
            ClinicFactory(country="FR", currency="EUR", price_min=3000, price_max=4000),
        ]
        ClinicFactory(
            country="FR", currency="EUR", price_min=9000, price_max=9900, status="suspended"
        )
        for i, paid in enumerate((1500, 2500, 3500)):
            ReviewFactory(
                clinic=fr[i % 2], price_paid=paid, price_currency="EUR", stage="norwood-6"
            )
        ReviewFactory(clinic=fr[0], price_paid=99000, price_currency="EUR", status="pending")
        db.session.commit()
    html = client.get("/cost?stage=norwood-6&service=full_scalp&country=fr").get_data(as_text=True)
    assert "Estimate for Norwood VI" in html
    assert "EUR 1,500–3,500" in html and "typically EUR 2,500" in html
    assert "From 3 prices paid in published testimonials (FR, similar stages only)" in html
    assert "2,000–3,000" in html  # medians of the two public clinics' listed ranges
    with app.app_context():
        est = costs.estimate("norwood-6", "full_scalp", "FR", "EUR")
        assert est.scope == "country" and est.paid.n == 3 and est.listed.n == 2


def test_cost_estimate_widens_to_the_region_and_converts(app):
    with app.app_context():
        c = ClinicFactory(country="DE", currency="EUR", price_min=1000, price_max=2000)
        for paid in (1000, 2000, 3000):
            ReviewFactory(clinic=c, price_paid=paid, price_currency="EUR")
        db.session.commit()
        est = costs.estimate(None, "full_scalp", "GB", "GBP")
        assert est.scope == "region" and est.scope_label == "Europe"
        assert est.paid.n == 3 and est.paid.converted == 3
        assert est.paid.median == round(2000 * 1.08 / 1.27, -1)


def test_removal_gets_its_own_guidance_not_the_course_text(client, app):
    html = client.get("/cost?service=removal").get_data(as_text=True)
    assert "Laser removal" in html and "6–8 weeks apart" in html
    assert "about a week apart" not in html
    assert 'id="correction-removal"' in client.get("/guide").get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["stage=norwood-99", "service=x", "country=FRA", "stage=" + "n" * 300, "currency=XYZ"],
)
def test_cost_page_refuses_bad_values_with_400(client, app, query):
    assert client.get("/cost?" + query).status_code == 400


@pytest.fixture
def two(app):
    with app.app_context():
        a = ClinicFactory(name="Alpha Dots", slug="alpha", price_min=100, price_max=200)
        b = ClinicFactory(name="Beta Lines", slug="beta", price_min=5000, price_max=6000)
        hidden = ClinicFactory(name="Gamma Hidden", slug="gamma", status="suspended")
        ReviewFactory(clinic=a, overall=2)
        ReviewFactory(clinic=b, overall=5)
        for c in (a, b, hidden):
            scores.recompute_clinic(c)
        db.session.commit()


def test_compare_orders_by_quality_and_hides_non_public(client, two):
    html = client.get("/compare?c=alpha&c=beta&c=gamma").get_data(as_text=True)
    heads = re.findall(r'<th scope="col"><a href="/clinics/([a-z]+)"', html)
    assert heads == ["beta", "alpha"]
    assert "Gamma" not in html


def test_compare_adds_a_clinic_by_name_without_javascript(client, two):
    resp = client.get("/compare?c=alpha&add=beta")
    assert resp.status_code == 302
    assert "c=alpha" in resp.location and "c=beta" in resp.location
    html = client.get("/compare?c=alpha&add=nothing-like-this").get_data(as_text=True)
    assert "No clinic named" in html


def test_compare_refuses_absurd_input(client, two):
    assert client.get("/compare?" + "&".join(["c=x"] * 30)).status_code == 400
    assert client.get("/compare?add=" + "a" * 500).status_code == 400
