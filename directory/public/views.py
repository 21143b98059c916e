"""Public pages: home, clinic list, clinic profile, its results and reviews."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime

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

from directory.guards import public
from directory.models import Clinic
from directory.public import forms
from directory.public.structured import breadcrumb_jsonld, clinic_jsonld, website_jsonld
from directory.ratelimits import limited
from directory.services import clinics as clinic_service
from directory.services import counters
from directory.services import search as search_service
from directory.services.scores import cached_explanation

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():
    near_text = forms.text_arg(request.args, "near", forms.MAX_PLACE)
    near = near_place = near_country = None
    if near_text:
        near_place, near_country = search_service.read_place(near_text)
        if near_place is not None or near_country is not None:
            try:
                near = search_service.near(near_place, radius_km=100, limit=4, country=near_country)
            except search_service.Unavailable:
                near = None
    return render_template(
        "public/home.html",
        best=_cached("best", lambda: clinic_service.best_rated(8)),
        cities=_cached("cities", lambda: clinic_service.popular_cities(12)),
        near_text=near_text,
        near_place=near_place,
        near_country=near_country,
        near_country_name=search_service.country_name(near_country) if near_country else None,
        near=near,
        jsonld=website_jsonld(),
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
    form = forms.search_form(request.args)
    context = {
        "form": form,
        "radii": forms.RADII,
        "sorts": forms.SEARCH_SORTS,
        "price_buckets": forms.PRICE_CHOICES,
        "place": None,
        "results": None,
    }
    if form.errors:
        return render_template("public/search.html", errors=form.errors_text, **context), 400
    place = None
    if form.place.data:
        place = search_service.resolve_place(form.place.data)
        if place is None:
            return render_template("public/search.html", unknown_place=True, **context)
    query = search_service.Query(
        text=form.q.data or None,
        service=form.service.data or None,
        country=form.country_code,
        city=form.city.data or None,
        max_price=form.max_price_usd,
        women=form.wants_women,
        place=place,
        radius_km=form.radius_km,
        sort=form.sort.data,
        page=form.page_number,
        per_page=current_app.config["PAGE_SIZE"],
        literal=form.is_literal,
    )
    try:
        results = search_service.find(query)
    except search_service.Unavailable:
        return render_template("public/search.html", unavailable=True, **context), 503
    if query.sort == "distance" and results.place is None:
        errors = ["Sorting by distance needs a place."]
        return render_template("public/search.html", errors=errors, **context), 400
    if form.page_number > 1 and form.page_number > (results.pages or 1):
        abort(404, "There is no such page of results.")
    title, description = search_service.describe(results)
    context.update(place=results.place, results=results)
    return render_template("public/search.html", title=title, description=description, **context)


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
            where = "country" if item["kind"] == "country" else "place"
            item["url"] = url_for("public.search", **{where: item["label"]})
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
        jsonld=clinic_jsonld(clinic, page.items, results),
        breadcrumb_jsonld=breadcrumb_jsonld(clinic),
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
    """Every public page a search engine should know, with when it last changed."""
    import os

    from directory.services import opendata

    base = current_app.config["CANONICAL_URL"].rstrip("/")
    clinics = opendata.sitemap_clinics()
    newest = max((c.updated for c in clinics), default=None)

    def template_time(name: str):
        path = os.path.join(current_app.root_path, current_app.template_folder, name)
        return datetime.fromtimestamp(os.path.getmtime(path), UTC)

    pages = [(url_for("public.home"), newest), (url_for("public.search"), newest)]
    for endpoint, when in (
        ("public.guide", lambda: template_time("public/guide.html")),
        ("public.cost", lambda: newest),
        ("reviews.how_we_rank", opendata.last_decision_time),
    ):
        if endpoint in current_app.view_functions:
            pages.append((url_for(endpoint), when() or newest))
    for c in clinics:
        pages.append(
            (url_for("public.clinic", slug=c.slug), opendata.latest(c.updated, c.reviews_updated))
        )
        pages.append(
            (url_for("public.clinic_results", slug=c.slug), c.results_updated or c.updated)
        )
        pages.append(
            (url_for("public.clinic_reviews", slug=c.slug), c.reviews_updated or c.updated)
        )
    xml = render_template(
        "public/sitemap.xml",
        urls=[(base + path, opendata.iso(when) if when else None) for path, when in pages],
    )
    return xml, 200, {"Content-Type": "application/xml; charset=utf-8"}


from directory.public import guides  # noqa: E402,F401  (guide, cost and compare pages)
