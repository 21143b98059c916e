"""Public pages: home, clinic list, clinic profile, its results and reviews."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for

from directory.extensions import db
from directory.guards import public
from directory.models import Clinic
from directory.public import forms
from directory.services import clinics as clinic_service
from directory.services import counters
from directory.services.scores import explain_reviews
from directory.vocab import PUBLIC_CLINIC_STATUSES

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():
    return render_template(
        "public/home.html",
        best=clinic_service.best_rated(8),
        cities=clinic_service.popular_cities(12),
    )


@bp.get("/search")
@public
def search():
    filters = forms.list_filters(request.args)
    page = forms.page_arg(request.args)
    pagination = clinic_service.list_public(filters, page, current_app.config["PAGE_SIZE"])
    if page > 1 and page > (pagination.pages or 1):
        abort(404, "There is no such page of results.")
    return render_template(
        "public/search.html",
        pagination=pagination,
        filters=filters,
        cities=clinic_service.list_cities(),
        countries=clinic_service.list_countries(),
    )


def _clinic_or_404(slug: str) -> Clinic:
    clinic = clinic_service.get_public(slug)
    if clinic is None:
        abort(404)
    return clinic


@bp.get("/clinics/<slug>")
@public
def clinic(slug: str):
    clinic = _clinic_or_404(slug)
    counters.count_view(clinic.id)  # own connection, one atomic statement, never raises
    reviews = clinic_service.all_public_reviews(clinic)
    explanation = explain_reviews(reviews)
    page = clinic_service.public_reviews(clinic, 1, current_app.config["REVIEWS_PAGE_SIZE"])
    results = clinic_service.public_results(clinic, limit=6)
    from flask_login import current_user

    from directory.services import reports
    from directory.services import reviews as review_service

    return render_template(
        "public/clinic.html",
        clinic=clinic,
        explanation=explanation,
        reviews=page,
        results=results,
        jsonld=clinic_jsonld(clinic),
        own_review=review_service.unpublished_for(current_user, clinic),
        clinic_reports=reports.counts_for_clinic(clinic),
    )


@bp.get("/clinics/<slug>/reviews")
@public
def clinic_reviews(slug: str):
    clinic = _clinic_or_404(slug)
    page_no = forms.page_arg(request.args)
    page = clinic_service.public_reviews(clinic, page_no, current_app.config["REVIEWS_PAGE_SIZE"])
    if page_no > 1 and page_no > (page.pages or 1):
        abort(404, "There is no such page of testimonials.")
    explanation = explain_reviews(clinic_service.all_public_reviews(clinic))
    return render_template(
        "public/reviews.html", clinic=clinic, reviews=page, explanation=explanation
    )


@bp.get("/clinics/<slug>/results")
@public
def clinic_results(slug: str):
    clinic = _clinic_or_404(slug)
    filters = forms.result_filters(request.args)
    cases = clinic_service.public_results(clinic, **filters)
    return render_template("public/results.html", clinic=clinic, cases=cases, filters=filters)


@bp.get("/robots.txt")
@public
def robots():
    body = (
        "User-agent: *\n"
        "Disallow: /account\nDisallow: /manage\nDisallow: /moderation\nDisallow: /admin\n"
        "Disallow: /auth\nDisallow: /api\n"
        f"Sitemap: {current_app.config['CANONICAL_URL'].rstrip('/')}/sitemap.xml\n"
    )
    return body, 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/sitemap.xml")
@public
def sitemap():
    slugs = db.session.execute(
        db.select(Clinic.slug).where(Clinic.status.in_(PUBLIC_CLINIC_STATUSES)).order_by(Clinic.id)
    ).scalars()
    base = current_app.config["CANONICAL_URL"].rstrip("/")
    xml = render_template("public/sitemap.xml", base=base, slugs=slugs)
    return xml, 200, {"Content-Type": "application/xml; charset=utf-8"}


def clinic_jsonld(clinic: Clinic) -> dict:
    base = current_app.config["CANONICAL_URL"].rstrip("/")
    data: dict = {
        "@context": "https://schema.org",
        "@type": "MedicalBusiness",
        "name": clinic.name,
        "url": base + url_for("public.clinic", slug=clinic.slug),
        "address": {
            "@type": "PostalAddress",
            "streetAddress": clinic.address or "",
            "addressLocality": clinic.city,
            "addressRegion": clinic.region or "",
            "postalCode": clinic.postal_code or "",
            "addressCountry": clinic.country,
        },
    }
    if clinic.latitude is not None and clinic.longitude is not None:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": clinic.latitude,
            "longitude": clinic.longitude,
        }
    if clinic.price_min is not None or clinic.price_max is not None:
        from directory.templating import format_price_range

        data["priceRange"] = format_price_range(clinic)
    if clinic.phone:
        data["telephone"] = clinic.phone
    if clinic.quality_score is not None and clinic.review_count:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": round(clinic.quality_score, 2),
            "ratingCount": clinic.review_count,
            "bestRating": 5,
            "worstRating": 1,
        }
    return data

from directory.public import guides  # noqa: E402,F401  (guide, cost and compare pages)
