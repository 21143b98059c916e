"""Discovery: Atom feeds of newly published testimonials, the favicon and the
web app manifest."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template, send_from_directory, url_for

from directory import vocab
from directory.guards import public
from directory.services import clinics as clinic_service
from directory.services import opendata

bp = Blueprint("feeds", __name__)

FEED_SIZE = 50
ATOM = "application/atom+xml; charset=utf-8"


def _base() -> str:
    return current_app.config["CANONICAL_URL"].rstrip("/")


def _entries(reviews) -> list[dict]:
    base = _base()
    out = []
    for r in reviews:
        ratings = ", ".join(
            f"{vocab.RUBRIC_SHORT[k]} {v}/5" for k, v in r.ratings().items() if k in vocab.RUBRIC
        )
        out.append(
            {
                "id": f"{base}/clinics/{r.clinic.slug}/reviews#review-{r.id}",
                "url": base
                + url_for("public.clinic_reviews", slug=r.clinic.slug)
                + f"#review-{r.id}",
                "title": f"{r.clinic.name}: "
                + (r.title or vocab.SERVICES.get(r.treatment_type, "Testimonial")),
                "author": opendata.author_label(r),
                "published": opendata.iso(opendata.published_time(r)),
                "updated": opendata.iso(opendata.published_time(r)),
                "summary": f"{ratings}."
                + (" Verified treatment." if r.verified_at else "")
                + (" Needed correction or removal." if r.needed_correction else ""),
                "text": r.text,
            }
        )
    return out


def _feed(title: str, self_url: str, alternate: str, reviews):
    entries = _entries(reviews)
    updated = entries[0]["updated"] if entries else opendata.iso(datetime(2026, 1, 1, tzinfo=UTC))
    xml = render_template(
        "feeds/atom.xml",
        title=title,
        self_url=self_url,
        alternate=alternate,
        updated=updated,
        entries=entries,
    )
    response = current_app.response_class(xml, content_type=ATOM)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    return response


@bp.get("/feed.atom")
@public
def site():
    """The newest published testimonials of every public clinic."""
    base = _base()
    return _feed(
        "New testimonials · SMP Clinic Directory",
        base + url_for("feeds.site"),
        base + "/",
        opendata.newest_reviews(FEED_SIZE),
    )


@bp.get("/clinics/<slug>/feed.atom")
@public
def clinic(slug: str):
    """The newest published testimonials of one clinic."""
    found = clinic_service.get_public(slug)
    if found is None:
        abort(404)
    base = _base()
    return _feed(
        f"New testimonials of {found.name} · SMP Clinic Directory",
        base + url_for("feeds.clinic", slug=slug),
        base + url_for("public.clinic", slug=slug),
        opendata.newest_reviews(FEED_SIZE, clinic=found),
    )


@bp.get("/favicon.ico")
@public
def favicon():
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=86400
    )


@bp.get("/site.webmanifest")
@public
def manifest():
    icons = [
        {
            "src": url_for("static", filename=f"icons/icon-{n}.png"),
            "sizes": f"{n}x{n}",
            "type": "image/png",
        }
        for n in (192, 512)
    ]
    body = {
        "name": "SMP Clinic Directory",
        "short_name": "SMP Clinics",
        "description": "Find a scalp micropigmentation clinic by the quality of its results.",
        "start_url": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#212529",
        "icons": icons,
    }
    response = current_app.response_class(
        current_app.json.dumps(body), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
