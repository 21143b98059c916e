"""The read-only public API at /api/v1.

Every operation is a GET over data the pages already show, read with the same
service functions and visibility rules (services/clinics.py, services/search.py,
services/opendata.py). SpecTree validates each request's query string and each
response body against the pydantic models of schemas.py, and generates the
OpenAPI 3.1 document served at /api/v1/openapi.json (openapi.py adds what
SpecTree has no words for: headers, 304/429, links). /api/v1/docs renders it
with Swagger UI from the files of the `offapi` package: no CDN.

HTTP: strong ETags over the body and Last-Modified with conditional GET
(If-None-Match wins over If-Modified-Since); CORS for GET from any origin (no
credentials: nothing here depends on who asks); a rate limit per client
address with RateLimit-* headers; errors as application/problem+json.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from importlib import resources

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from spectree import Response, SpecTree
from sqlalchemy import func, select

from directory.api import openapi
from directory.api import schemas as s
from directory.extensions import db, limiter
from directory.guards import public
from directory.models import Clinic
from directory.ratelimits import by_address
from directory.services import clinics as clinic_service
from directory.services import moderation, opendata
from directory.services import search as search_service

log = logging.getLogger("directory.api")

bp = Blueprint("api", __name__)

PREFIX = "/api/v1"
CACHE_CONTROL = "public, max-age=60"
EXPOSED = (
    "ETag, Last-Modified, Link, Retry-After, "
    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy"
)


def _on_request_error(req, resp, err, instance, model_adapter=None):
    if err is not None:
        parts = []
        for e in err.errors():
            where = ".".join(str(x) for x in e.get("loc", ())) or "query"
            parts.append(f"“{where}”: {e.get('msg', 'invalid')}")
        abort(400, "Invalid query parameters. " + "; ".join(parts)[:600])


def _on_response_error(req, resp, err, instance, model_adapter=None):
    if err is not None:
        log.error("API response for %s failed its schema: %s", req.path, err)
        abort(500)


spec = SpecTree(
    "flask",
    mode="strict",
    title="SMP Clinic Directory API",
    version="1.0.0",
    description=openapi.DESCRIPTION,
    # SpecTree skips routes under its own path; ours are served by this blueprint.
    path="_spectree",
    page_templates={},
    validation_error_status=400,
    validation_error_model=s.Problem,
    before=_on_request_error,
    after=_on_response_error,
)

limiter.limit(
    lambda: current_app.config["RATELIMIT_API"],
    key_func=by_address,
    scope="api",
)(bp)


# --- helpers -----------------------------------------------------------------


def absolute(path: str) -> str:
    return current_app.config["CANONICAL_URL"].rstrip("/") + path


def photo_url(photo_id: int, size: str) -> str:
    return absolute(url_for("media.photo", photo_id=photo_id, size=size))


def clinic_urls(slug: str) -> dict:
    return {
        "html": absolute(url_for("public.clinic", slug=slug)),
        "api": absolute(url_for("api.clinic", slug=slug)),
        "results": absolute(url_for("api.clinic_results", slug=slug)),
        "testimonials": absolute(url_for("api.clinic_testimonials", slug=slug)),
        "feed": absolute(url_for("feeds.clinic", slug=slug)),
    }


def modified(*values: datetime | None) -> None:
    """Record the newest change behind this response (sent as Last-Modified)."""
    g.api_last_modified = opendata.latest(getattr(g, "api_last_modified", None), *values)


def clinics_changed() -> datetime | None:
    """When any clinic row last changed (scores are recomputed on every publication)."""
    return db.session.execute(select(func.max(Clinic.updated_at))).scalar_one_or_none()


def paging_links(page: int, pages: int, **args) -> dict:
    def at(n: int) -> str:
        return absolute(url_for(request.endpoint, **(request.view_args or {}), **args, page=n))

    last = max(pages, 1)
    links = {
        "self": at(page),
        "first": at(1),
        "last": at(last),
        "next": at(page + 1) if page < last else None,
        "prev": at(page - 1) if page > 1 else None,
    }
    g.api_links = links
    return links


def query_args(model, skip=("page",)) -> dict:
    """The non-default query parameters of a validated model (for paging links)."""
    defaults = type(model)()
    return {
        k: v
        for k, v in model.model_dump().items()
        if k not in skip and v != getattr(defaults, k) and v is not None
    }


def check_page(page: int, pages: int) -> None:
    if page > 1 and page > max(pages, 1):
        abort(404, "There is no such page.")


def _page_body(query, items: list, total: int, pages: int, **more) -> dict:
    """One page of a list as the API answers it, with links to the other pages."""
    return {
        "items": items,
        "total": total,
        "page": query.page,
        "per_page": query.per_page,
        "pages": pages,
        **more,
        "links": paging_links(query.page, pages, **query_args(query)),
    }


def _published(item, what: str):
    if item is None:
        abort(404, f"No published {what} has this id.")
    return item


def _clinic_or_404(slug: str) -> Clinic:
    clinic = clinic_service.get_public(slug)
    if clinic is None:
        abort(404, "No public clinic has this slug.")
    return clinic


ERRORS = {"HTTP_400": s.Problem, "HTTP_404": s.Problem}


# --- hooks: conditional GET, caching, CORS, rate-limit headers ----------------


@bp.after_request
def _conditional(response):
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        if response.mimetype == "application/json":
            response.headers["Cache-Control"] = CACHE_CONTROL
            response.add_etag()
            last = getattr(g, "api_last_modified", None)
            if last is not None:
                # HTTP dates have whole seconds; never claim a time in the future.
                response.last_modified = min(last, datetime.now(UTC)).replace(microsecond=0)
            links = getattr(g, "api_links", None)
            if links:
                response.headers["Link"] = ", ".join(
                    f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self"
                )
        response.make_conditional(request)
    return response


@bp.after_app_request
def _cors_and_limits(response):
    if not request.path.startswith(PREFIX + "/") and request.path != PREFIX:
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
        response.headers["Access-Control-Max-Age"] = "86400"
    current = limiter.current_limit if current_app.config.get("RATELIMIT_ENABLED") else None
    if current is not None:
        amount = current.limit.amount
        window = current.limit.get_expiry()
        response.headers["RateLimit-Limit"] = str(amount)
        response.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        reset = min(window, max(0, math.ceil(current.reset_at - time.time())))
        response.headers["RateLimit-Reset"] = str(reset)
        response.headers["RateLimit-Policy"] = f"{amount};w={window}"
    return response


# --- operations ----------------------------------------------------------------


def _operation(rule: str, operation_id: str, tag: str, returns, *, errors=True, **more):
    """A public GET operation, validated and documented by spectree (`more`: its
    query model, path parameter descriptions)."""
    resp = Response(HTTP_200=returns, **ERRORS) if errors else Response(HTTP_200=returns)
    validate = spec.validate(resp=resp, tags=[tag], operation_id=operation_id, **more)

    def register(view):
        return bp.get(rule)(public(validate(view)))

    return register


@_operation("/clinics", "searchClinics", "clinics", s.ClinicPage, query=s.ClinicSearch)
def clinics(query: s.ClinicSearch):
    """Search clinics.

    The filters and orders of the /search page: free text, near a place within a
    radius, service, country, city, maximum price, women's treatments; ordered by
    quality (default), number of testimonials, distance or best match. Never by price.
    """
    place = search_service.resolve_place(query.place) if query.place.strip() else None
    place_used = None
    if query.place.strip():
        place_used = {
            "query": query.place,
            "found": place is not None,
            "name": place.name if place else None,
            "country": place.country if place else None,
            "latitude": place.latitude if place else None,
            "longitude": place.longitude if place else None,
        }
    sort = query.sort if (place is not None or query.sort != "distance") else "quality"
    if place_used is not None and place is None:
        data = _page_body(
            query, [], 0, 0, sort=sort, place=place_used, did_you_mean=None, partial=False
        )
        check_page(query.page, 0)
        return data
    q = search_service.Query(
        text=query.q.replace("\x00", "").strip() or None,
        service=query.service,
        country=query.country.upper() or None,
        city=query.city.replace("\x00", "").strip() or None,
        max_price=query.max_price,
        women=query.women,
        place=place,
        radius_km=query.radius,
        sort=sort,
        page=query.page,
        per_page=query.per_page,
    )
    try:
        results = search_service.find(q, full=True)
    except search_service.Unavailable:
        abort(503, "Search is unavailable for a moment. Try again shortly.")
    check_page(query.page, results.pages)
    modified(clinics_changed())
    items = []
    for c in results.items:
        item = opendata.clinic_summary(c)
        distance = results.distances.get(c.id)
        item["distance_km"] = round(distance, 1) if distance is not None else None
        item["urls"] = clinic_urls(c.slug)
        items.append(item)
    return _page_body(
        query,
        items,
        results.total,
        results.pages,
        sort=sort,
        place=place_used,
        did_you_mean=results.suggestion,
        partial=results.partial,
    )


@_operation(
    "/clinics/<slug>",
    "getClinic",
    "clinics",
    s.Clinic,
    path_parameter_descriptions={"slug": "The clinic's stable slug (as in its page address)."},
)
def clinic(slug: str):
    """One clinic.

    Its profile, services, prices (information only), the score and how it is made
    up, and its practitioners with their own scores.
    """
    clinic = _clinic_or_404(slug)
    modified(clinic.updated_at)
    data = opendata.clinic_detail(clinic)
    data["urls"] = clinic_urls(clinic.slug)
    return data


@_operation(
    "/clinics/<slug>/results",
    "listClinicResults",
    "results",
    s.ResultPage,
    query=s.ResultFilters,
    path_parameter_descriptions={"slug": "The clinic's slug."},
)
def clinic_results(slug: str, query: s.ResultFilters):
    """A clinic's published before/after result cases.

    With their case facts and photo URLs in each size, newest first; filter them
    like your own case.
    """
    clinic = _clinic_or_404(slug)
    filters = query.model_dump(exclude={"page", "per_page"})
    page = clinic_service.public_results_page(clinic, query.page, query.per_page, **filters)
    check_page(query.page, page.pages)
    modified(clinic.updated_at, *(opendata.published_time(c) for c in page.items))
    return _page_body(query, [_result(c) for c in page.items], page.total, page.pages)


@_operation(
    "/clinics/<slug>/testimonials",
    "listClinicTestimonials",
    "testimonials",
    s.TestimonialPage,
    query=s.PageOnly,
    path_parameter_descriptions={"slug": "The clinic's slug."},
)
def clinic_testimonials(slug: str, query: s.PageOnly):
    """A clinic's published testimonials.

    With the rubric ratings, published follow-ups and the clinic's reply, newest first.
    """
    clinic = _clinic_or_404(slug)
    page = clinic_service.public_reviews(clinic, query.page, query.per_page)
    check_page(query.page, page.pages)
    modified(clinic.updated_at, *(opendata.review_modified(r) for r in page.items))
    return _page_body(query, [_testimonial(r) for r in page.items], page.total, page.pages)


@_operation(
    "/results/<int(min=1, max=2147483647):case_id>",
    "getResult",
    "results",
    s.ResultCase,
    path_parameter_descriptions={"case_id": "The result case's stable id."},
)
def result(case_id: int):
    """One published result case."""
    case = _published(opendata.public_result(case_id), "result case")
    modified(opendata.published_time(case))
    return _result(case)


@_operation(
    "/testimonials/<int(min=1, max=2147483647):review_id>",
    "getTestimonial",
    "testimonials",
    s.Testimonial,
    path_parameter_descriptions={"review_id": "The testimonial's stable id."},
)
def testimonial(review_id: int):
    """One published testimonial."""
    review = _published(opendata.public_review(review_id), "testimonial")
    modified(opendata.review_modified(review))
    return _testimonial(review)


@_operation("/places", "suggestPlaces", "places", s.Suggestions, query=s.PlaceQuery)
def places(query: s.PlaceQuery):
    """Suggestions for a search box: clinic names and places matching what was typed."""
    prefix = query.q.replace("\x00", "").strip()
    items = search_service.suggest(prefix) if len(prefix) >= 2 else []
    for item in items:
        slug = item.pop("slug", None)
        if slug:
            item["url"] = absolute(url_for("api.clinic", slug=slug))
        else:
            item["url"] = absolute(url_for("api.clinics", place=item["value"]))
    return {"q": prefix, "suggestions": items}


@_operation("/score-method", "getScoreMethod", "method", s.ScoreMethod, errors=False)
def score_method():
    """The quality score's formula and constants (price is not an input)."""
    return opendata.score_method()


@_operation("/transparency", "getTransparency", "method", s.Transparency, errors=False)
def transparency():
    """Moderation figures and the size of the public directory."""
    figures = moderation.figures()
    counts = opendata.public_counts()
    return {
        "decisions": figures.decided,
        "decisions_by_outcome": figures.by_outcome,
        "median_hours_to_decision": figures.median_hours,
        "appeals": figures.appeals,
        "appeals_decided": figures.appeals_decided,
        "reversals": figures.reversals,
        **counts,
    }


def _result(case) -> dict:
    data = opendata.result_dict(case, photo_url)
    data["url"] = absolute(url_for("api.result", case_id=case.id))
    return data


def _testimonial(review) -> dict:
    data = opendata.review_dict(review, photo_url)
    data["url"] = absolute(url_for("api.testimonial", review_id=review.id))
    return data


# --- the document and its page ----------------------------------------


@bp.get("/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3.1 document, generated from the routes and models above."""
    return openapi.document(spec, absolute("/how-we-rank"))


DOC_ASSETS = {
    "swagger-ui.css": ("swagger_style.css", "text/css"),
    "swagger-ui-bundle.js": ("swagger_bundle.js", "text/javascript"),
    "swagger-ui-standalone-preset.js": ("swagger_preset.js", "text/javascript"),
}


@bp.get("/docs")
@public
def docs():
    """Swagger UI over the document, from local files (works with no network)."""
    return render_template("api/docs.html")


@bp.get("/docs/assets/<name>")
@public
def docs_asset(name: str):
    if name not in DOC_ASSETS:
        abort(404)
    filename, mimetype = DOC_ASSETS[name]
    body = (resources.files("offapi") / filename).read_bytes()
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
