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


def test_cost_estimate_rises_with_extent_of_hair_loss():
    assert (
        costs.estimate("norwood-7", "full_scalp").high_usd
        > costs.estimate("norwood-2", "full_scalp").high_usd
    )
    est = costs.estimate("norwood-5", "full_scalp")
    assert 1000 <= est.low_usd < est.high_usd <= 4500


def test_cost_page_shows_estimate_and_listed_prices(client, app):
    with app.app_context():
        ClinicFactory(country="FR", currency="EUR", price_min=1000, price_max=2000)
        ClinicFactory(country="FR", currency="EUR", price_min=3000, price_max=4000)
        ClinicFactory(
            country="FR", currency="EUR", price_min=9000, price_max=9900, status="suspended"
        )
    html = client.get("/cost?stage=norwood-6&service=full_scalp&country=fr").get_data(as_text=True)
    assert "Estimate for Norwood VI" in html
    assert "2,000–3,000" in html  # medians of the two public clinics only


@pytest.mark.parametrize(
    "query", ["stage=norwood-99", "service=x", "country=FRA", "stage=" + "n" * 300]
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
