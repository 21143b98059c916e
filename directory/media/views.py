"""Serves stored photos, checking visibility on every request.

Caching: a published photo may be kept by the viewer's browser for a minute, but a
shared cache (a proxy, a CDN) must ask us again every time (`s-maxage=0`,
`proxy-revalidate`); the answer is then a cheap 304 while the photo is still
public, and a 404 the moment it is removed, so a removed photo is never served from
a shared cache. Anything not public is `private, no-store`. A replaced photo is a
new row with a new id and new stored names, so its URL changes too.
"""

from __future__ import annotations

import os

from flask import Blueprint, abort, send_file
from flask_login import current_user

from directory.extensions import db
from directory.guards import public
from directory.models import Photo
from directory.services import media

bp = Blueprint("media", __name__)

PUBLISHED_MAX_AGE = 60
PUBLISHED_CACHE = f"public, max-age={PUBLISHED_MAX_AGE}, s-maxage=0, proxy-revalidate"
PRIVATE_CACHE = "private, no-store"


@bp.get("/<int:photo_id>/<any(web, thumb):size>.jpg")
@public  # visibility is checked per photo below
def photo(photo_id: int, size: str):
    return _send(photo_id, size, "jpg")


@bp.get("/<int:photo_id>/<any(web, thumb):size>.webp")
@public  # visibility is checked per photo below
def photo_webp(photo_id: int, size: str):
    """The same photo as WebP (smaller; pages offer it first in <picture>)."""
    return _send(photo_id, size, "webp")


def _send(photo_id: int, size: str, fmt: str):
    item = db.session.get(Photo, photo_id)
    if item is None or not media.visible_to(item, current_user):
        abort(404)
    path = media.file_path(item, size)
    if not os.path.exists(path):
        abort(404)
    if fmt == "webp":
        path = media.webp_path(item, size)
    # Public caching only for what anyone may see: a published photo of a pending or
    # removed testimonial, shown to its author, must not land in a shared cache.
    published = item.status == "published" and media.visible_to(item, None)
    response = send_file(
        path,
        mimetype="image/webp" if fmt == "webp" else "image/jpeg",
        max_age=PUBLISHED_MAX_AGE if published else 0,
        conditional=True,  # ETag and Last-Modified: revalidation answers 304
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = PUBLISHED_CACHE if published else PRIVATE_CACHE
    return response
