"""Public pages: home, clinic list, clinic profile, its results and reviews."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from directory import pagecache
from directory.extensions import db
from directory.guards import public
from directory.models import Clinic
from directory.public import forms
from directory.services import clinics as clinic_service
from directory.services import counters, reports
from directory.services import reviews as review_service
from directory.services import search as search_service
from directory.services.scores import cached_explanation
from directory.vocab import PUBLIC_CLINIC_STATUSES

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():
    near_text = forms.text_arg(request.args, "near", forms.MAX_PLACE)
    listings = pagecache.listings_key()
    parts = ("home", *listings)
    if near_text and pagecache.enabled():  # the "near you" list comes from the index
        generation = search_service.generation()
        parts = None if generation is None else (*parts, generation)
    return pagecache.serve(parts, lambda: _home_page(near_text, listings))


def _home_page(near_text: str | None, listings: tuple):
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
        # Both lists sort every public clinic: computed once per listings version
        # in each worker, and the best-rated re-read by id (a cheap query).
        best=search_service.load_public(
            pagecache.memo("home.best", listings, lambda: clinic_service.best_rated_ids(8))
        ),
        cities=pagecache.memo("home.cities", listings, lambda: clinic_service.popular_cities(12)),
        near_text=near_text,
        near_place=near_place,
        near=near,
    )


@bp.get("/search")
@public
def search():
    # Results come from the index and the database: cached per index generation
    # and listings version, never while the index lags (generation() is None).
    parts = None
    if pagecache.enabled():
        listings, pending = pagecache.listings_state()
        generation = search_service.generation() if pending else search_service.index_token()
        if generation is not None:
            parts = ("search", *listings, generation)
    return pagecache.serve(parts, _search_page)


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


def _clinic_key(slug: str) -> tuple[int, tuple]:
    """The clinic's id and page versions; 404 when the public may not see it."""
    found = pagecache.public_clinic_key(slug)
    if found is None:
        abort(404)
    return found


@bp.get("/clinics/<slug>")
@public
def clinic(slug: str):
    clinic_id, versions = _clinic_key(slug)
    counters.record_view(clinic_id)  # buffered; never raises
    return pagecache.serve(("clinic", clinic_id, *versions), lambda: _clinic_page(slug))


def _clinic_page(slug: str):
    clinic = _clinic_or_404(slug)
    return render_template(
        "public/clinic.html",
        clinic=clinic,
        explanation=cached_explanation(clinic),
        reviews=clinic_service.latest_reviews(clinic, current_app.config["REVIEWS_PAGE_SIZE"]),
        results=clinic_service.public_results(clinic, limit=6),
        jsonld=clinic_jsonld(clinic),
        own_review=review_service.unpublished_for(current_user, clinic),
        clinic_reports=reports.counts_for_clinic(clinic),
    )


@bp.get("/clinics/<slug>/reviews")
@public
def clinic_reviews(slug: str):
    clinic_id, versions = _clinic_key(slug)
    return pagecache.serve(("reviews", clinic_id, *versions), lambda: _reviews_page(slug))


def _reviews_page(slug: str):
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
    clinic_id, versions = _clinic_key(slug)
    return pagecache.serve(("results", clinic_id, *versions), lambda: _results_page(slug))


def _results_page(slug: str):
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
