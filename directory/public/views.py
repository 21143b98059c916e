"""Public pages: home, clinic list, clinic profile, its results and reviews."""

from __future__ import annotations

from datetime import UTC, datetime

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
from directory.guards import public
from directory.models import Clinic
from directory.public import forms
from directory.public.case import current_case
from directory.public.structured import breadcrumb_jsonld, clinic_jsonld, website_jsonld
from directory.ratelimits import limited
from directory.services import casescores, counters, gallery, pagedata
from directory.services import clinics as clinic_service
from directory.services import reviews as review_service
from directory.services import search as search_service
from directory.services.scores import cached_explanation

bp = Blueprint("public", __name__)


def _home_parts(listings: tuple, near_text: str | None) -> tuple | None:
    parts = ("home", *listings)
    if near_text and pagecache.enabled():  # the "near you" list comes from the index
        generation = search_service.generation()
        parts = None if generation is None else (*parts, generation)
    return parts


def _home_key(args) -> tuple | None:
    return _home_parts(pagecache.listings_key(), forms.text_arg(args, "near", forms.MAX_PLACE))


@bp.get("/")
@public
@pagecache.cacheable(_home_key)
def home():
    near_text = forms.text_arg(request.args, "near", forms.MAX_PLACE)
    listings = pagecache.listings_key()
    parts = _home_parts(listings, near_text)
    return pagecache.serve(parts, lambda: _home_page(near_text, listings))


def _home_page(near_text: str | None, listings: tuple):
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
        # Both lists sort every public clinic: computed once per listings version
        # in each worker
        # (plain records: nothing is read again until a listing changes).
        best=pagecache.memo(
            "home.best", listings, lambda: pagedata.clinic_cards(clinic_service.best_rated_ids(8))
        ),
        cities=pagecache.memo("home.cities", listings, lambda: clinic_service.popular_cities(12)),
        near_text=near_text,
        near_place=near_place,
        near_country=near_country,
        near_country_name=search_service.country_name(near_country) if near_country else None,
        near=near,
        jsonld=website_jsonld(),
    )


def _search_parts(_args) -> tuple | None:
    # Results come from the index and the database: cached per index generation
    # and listings version, never while the index lags (outbox rows pending).
    listings, pending = pagecache.listings_state(search_service.applied_through())
    generation = search_service.generation() if pending else search_service.index_token()
    return None if generation is None else ("search", *listings, generation)


@bp.get("/search")
@limited("RATELIMIT_SEARCH", methods=("GET",))
@public
@pagecache.cacheable(_search_parts)
def search():
    parts = _search_parts(request.args) if pagecache.enabled() else None
    return pagecache.serve(parts, _search_page)


def _search_page():
    form = forms.search_form(request.args)
    case = current_case(request.args)
    context = {
        "form": form,
        "radii": forms.RADII,
        "sorts": forms.SEARCH_SORTS,
        "price_buckets": forms.PRICE_CHOICES,
        "place": None,
        "results": None,
        "case": case,
        "case_text": casescores.describe(case) if case else None,
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
        results = search_service.find(query, case=case)
    except search_service.Unavailable:
        return render_template("public/search.html", unavailable=True, **context), 503
    if query.sort == "distance" and results.place is None:
        errors = ["Sorting by distance needs a place."]
        return render_template("public/search.html", errors=errors, **context), 400
    if form.page_number > 1 and form.page_number > (results.pages or 1):
        abort(404, "There is no such page of results.")
    if results.partial:
        pagecache.keep_out()  # the next visitor gets the whole search, not this note
    title, description = search_service.describe(results)
    context.update(place=results.place, results=results)
    context["case_results"] = casescores.similar_result_counts([c.id for c in results.items], case)
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


def _clinic_or_404(slug: str) -> pagedata.ClinicRecord:
    clinic = pagedata.public_clinic(slug)
    if clinic is None:
        abort(404)
    return clinic


def _clinic_key(slug: str) -> tuple[int, tuple]:
    """The clinic's id and page versions; 404 when the public may not see it."""
    found = pagecache.public_clinic_key(slug)
    if found is None:
        abort(404)
    return found


def _cached_clinic_page(kind: str, slug: str, render, *, count_view: bool = False):
    """A page about one clinic from the page cache (kept per clinic and its page
    versions); `render(clinic)` makes it when the cache has none. When the page
    cannot be cached (cache off, or a visitor with a session), the clinic is read
    once, without its versions."""
    if not pagecache.may_serve():
        clinic = _clinic_or_404(slug)
        if count_view:
            counters.record_view(clinic.id)
        return pagecache.serve(None, lambda: render(clinic))
    parts = _clinic_parts(kind, slug)
    if count_view:
        _count_view(parts)
    return pagecache.serve(parts, lambda: render(_clinic_or_404(slug)))


def _clinic_parts(kind: str, slug: str) -> tuple:
    """A clinic page's cache key parts: its kind, the clinic and its versions (404
    when the public may not see it)."""
    clinic_id, versions = _clinic_key(slug)
    return (kind, clinic_id, *versions)


def _count_view(parts: tuple) -> None:
    counters.record_view(parts[1])  # buffered; never raises


@bp.get("/clinics/<slug>")
@public
@pagecache.cacheable(lambda _args, slug: _clinic_parts("clinic", slug), served=_count_view)
def clinic(slug: str):
    return _cached_clinic_page("clinic", slug, _clinic_page, count_view=True)


def _clinic_page(clinic: Clinic):
    case = current_case(request.args)
    page = pagedata.latest_reviews(clinic, current_app.config["REVIEWS_PAGE_SIZE"])
    results = pagedata.latest_results(clinic, limit=6)
    return render_template(
        "public/clinic.html",
        clinic=clinic,
        explanation=cached_explanation(clinic),
        reviews=page,
        results=results,
        jsonld=clinic_jsonld(clinic, page.items, results),
        breadcrumb_jsonld=breadcrumb_jsonld(clinic),
        own_review=review_service.unpublished_for(current_user, clinic),
        clinic_reports=clinic.report_counts,
        case=case,
        case_text=casescores.describe(case) if case else None,
        case_score=casescores.score_for(clinic, case) if case else None,
        case_results=casescores.similar_result_counts([clinic.id], case).get(clinic.id, 0),
    )


@bp.get("/clinics/<slug>/reviews")
@public
@pagecache.cacheable(lambda _args, slug: _clinic_parts("reviews", slug))
def clinic_reviews(slug: str):
    return _cached_clinic_page("reviews", slug, _reviews_page)


def _reviews_page(clinic: Clinic):
    page_no = forms.page_arg(request.args)
    page = pagedata.public_reviews(clinic, page_no, current_app.config["REVIEWS_PAGE_SIZE"])
    if page_no > 1 and page_no > (page.pages or 1):
        abort(404, "There is no such page of testimonials.")
    explanation = cached_explanation(clinic)
    return render_template(
        "public/reviews.html", clinic=clinic, reviews=page, explanation=explanation
    )


@bp.get("/clinics/<slug>/results")
@public
@pagecache.cacheable(lambda _args, slug: _clinic_parts("results", slug))
def clinic_results(slug: str):
    return _cached_clinic_page("results", slug, _gallery_page)


@bp.get("/results")
@public
def results():
    return _gallery_page(None)


def _gallery_page(clinic: Clinic | None):
    """The results gallery of one clinic or of all: filtered like the visitor's case and
    ordered by each clinic's score for it."""
    filters = forms.result_filters(request.args)
    if "case" in request.args:
        case = current_case(request.args)  # the filter form sets (or clears) the case
    elif any(request.args.get(k) for k in casescores.CASE_FIELDS):
        case = casescores.parse_case(filters)  # a plain filtered link: the session stays
    else:
        case = current_case(request.args)
        if case is not None:
            for key in casescores.CASE_FIELDS:
                filters[key] = getattr(case, key)
    if case is not None and not case.is_set:
        case = None
    page_no = forms.page_arg(request.args)
    page = gallery.gallery(
        filters,
        case,
        page_no,
        current_app.config["PAGE_SIZE"],
        clinic_id=clinic.id if clinic is not None else None,
    )
    if page_no > 1 and page_no > (page.pages or 1):
        abort(404, "There is no such page of results.")
    return render_template(
        "public/results.html",
        clinic=clinic,
        page=page,
        filters=filters,
        case_text=casescores.describe(case) if case else None,
    )


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
