"""Serves stored photos, checking visibility on every request."""

from __future__ import annotations

import os

from flask import Blueprint, abort, send_file
from flask_login import current_user

from directory.extensions import db
from directory.guards import public
from directory.models import Photo
from directory.services import media

bp = Blueprint("media", __name__)


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
    response = send_file(
        path,
        mimetype="image/webp" if fmt == "webp" else "image/jpeg",
        max_age=0 if item.status != "published" else 3600,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = (
        "public, max-age=3600" if item.status == "published" else "private, no-store"
    )
    return response
