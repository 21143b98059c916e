"""Public pages: home, clinic list, clinic profile, its results and reviews."""

from __future__ import annotations

import time
from collections import OrderedDict

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from directory.extensions import db
from directory.guards import public
from directory.models import Clinic
from directory.public import forms
from directory.ratelimits import limited
from directory.services import clinics as clinic_service
from directory.services import counters
from directory.services import search as search_service
from directory.services.scores import cached_explanation
from directory.vocab import PUBLIC_CLINIC_STATUSES

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():
    near_text = forms.text_arg(request.args, "near", forms.MAX_PLACE)
    near = near_place = None
    if near_text:
        near_place = search_service.resolve_place(near_text)
        if near_place is not None:
            try:
                near = search_service.near(near_place, radius_km=100, limit=4)
            except search_service.Unavailable:
                near = None
    return render_template(
        "public/home.html",
        best=_cached("best", lambda: clinic_service.best_rated(8)),
        cities=_cached("cities", lambda: clinic_service.popular_cities(12)),
        near_text=near_text,
        near_place=near_place,
        near=near,
    )


_HOME_CACHE: dict[tuple[str, str], tuple[float, list]] = {}
HOME_CACHE_S = 30


def _cached(name: str, load):
    """The home page's lists sort every public clinic; a per-process copy is kept
    for HOME_CACHE_S seconds (best-rated clinics are kept by id and re-read, so a
    clinic suspended meanwhile never shows)."""
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], name)
    now = time.monotonic()
    hit = _HOME_CACHE.get(key)
    if hit is None or now - hit[0] > HOME_CACHE_S or current_app.testing:
        value = load()
        if name == "best":
            value = [c.id for c in value]
        hit = (now, value)
        _HOME_CACHE[key] = hit
    if name == "best":
        return search_service.load_public(hit[1])
    return hit[1]


# Rendered /search pages for anonymous visitors, per index generation
# (SEARCH_PAGE_CACHE). Every change a page shows marks the clinic dirty, which
# makes a new generation; while outbox rows are pending nothing is cached.
_PAGE_CACHE: OrderedDict[tuple, str] = OrderedDict()
PAGE_CACHE_SIZE = 512


@bp.get("/search")
@limited("RATELIMIT_SEARCH", methods=("GET",))
@public
def search():
    key = None
    if (
        current_app.config.get("SEARCH_PAGE_CACHE", not current_app.testing)
        and not current_user.is_authenticated
        and not session.get("_flashes")
    ):
        gen = search_service.generation()
        if gen is not None:
            key = (current_app.config["INDEX_DIR"], gen, request.full_path)
            cached = _PAGE_CACHE.get(key)
            if cached is not None:
                _PAGE_CACHE.move_to_end(key)
                return cached
    response = _search_page()
    if key is not None and isinstance(response, str):
        _PAGE_CACHE[key] = response
        while len(_PAGE_CACHE) > PAGE_CACHE_SIZE:
            _PAGE_CACHE.popitem(last=False)
    return response


def _search_page():
    args = forms.search_args(request.args)
    place = None
    if args.place:
        place = search_service.resolve_place(args.place)
    query = search_service.Query(
        text=args.text,
        service=args.service,
        country=args.country,
        city=args.city,
        max_price=args.max_price,
        women=args.women,
        place=place,
        radius_km=args.radius,
        sort=args.sort if (place or args.sort != "distance") else "quality",
        page=args.page,
        per_page=current_app.config["PAGE_SIZE"],
    )
    context = {
        "args": args,
        "place": place,
        "radii": forms.RADII,
        "sorts": forms.SEARCH_SORTS,
        "price_buckets": forms.PRICE_CHOICES,
    }
    if args.place and place is None:
        return render_template("public/search.html", results=None, unknown_place=True, **context)
    try:
        results = search_service.find(query)
    except search_service.Unavailable:
        return render_template("public/search.html", results=None, unavailable=True, **context), 503
    if args.page > 1 and args.page > (results.pages or 1):
        abort(404, "There is no such page of results.")
    return render_template("public/search.html", results=results, **context)


@bp.get("/search/suggest")
@limited("RATELIMIT_SUGGEST", methods=("GET",))
@public
def suggest():
    prefix = (request.args.get("q") or "").replace("\x00", "").strip()
    if len(prefix) > 60:
        abort(400, "“q” is too long (at most 60 characters).")
    items = search_service.suggest(prefix) if len(prefix) >= 2 else []
    for item in items:
        if item.get("slug"):
            item["url"] = url_for("public.clinic", slug=item.pop("slug"))
        else:
            item["url"] = url_for("public.search", place=item["value"])
    response = jsonify({"q": prefix, "suggestions": items})
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


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
    explanation = cached_explanation(clinic)
    page = clinic_service.latest_reviews(clinic, current_app.config["REVIEWS_PAGE_SIZE"])
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
    explanation = cached_explanation(clinic)
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
