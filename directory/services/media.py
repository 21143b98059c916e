"""Photo intake, shared by every upload on the site (reviews, result cases, demo data).

An upload is judged by its content, bounded in bytes and pixels, decoded,
turned upright, stripped of every piece of metadata by re-encoding, sized for
the web plus a thumbnail, stored under random names, and hashed perceptually so
that the same photo claimed twice is caught. Files written by a transaction
that rolls back are removed; files of deleted photos go after the commit.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from directory.extensions import db
from directory.models import Photo
from directory.services import Invalid, similarity

try:  # HEIC from phones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - declared dependency
    pillow_heif = None

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")
_NEW_FILES = "media_new_files"
_DOOMED_FILES = "media_doomed_files"


class InvalidUpload(Invalid):
    """The file is not an image we accept; the message says why, for the user."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    web_size: int
    thumb_size: int

    @classmethod
    def from_config(cls) -> Limits:
        c = current_app.config
        return cls(
            c["PHOTO_MAX_BYTES"], c["PHOTO_MAX_PIXELS"], c["PHOTO_WEB_SIZE"], c["PHOTO_THUMB_SIZE"]
        )


def sniff(data: bytes) -> str | None:
    """The image format named by the file's first bytes, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIF"
    return None


def decode(data: bytes, limits: Limits) -> Image.Image:
    """A clean RGB image from untrusted bytes, or InvalidUpload."""
    if not data:
        raise InvalidUpload("The file is empty.")
    if len(data) > limits.max_bytes:
        raise InvalidUpload(f"The photo is larger than {limits.max_bytes // (1024 * 1024)} MB.")
    fmt = sniff(data)
    if fmt is None:
        raise InvalidUpload("Only JPEG, PNG, WebP and HEIC photos are accepted.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if im.format not in ACCEPTED_FORMATS or (im.format == "HEIF") != (fmt == "HEIF"):
                raise InvalidUpload("Only JPEG, PNG, WebP and HEIC photos are accepted.")
            if im.width * im.height > limits.max_pixels:
                raise InvalidUpload("The photo has too many pixels; please send a smaller one.")
            if getattr(im, "n_frames", 1) > 1 and im.format != "HEIF":
                raise InvalidUpload("Animated images are not accepted.")
            im.load()
            im = ImageOps.exif_transpose(im)
            im = im.convert("RGB")
    except InvalidUpload:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidUpload("The photo has too many pixels; please send a smaller one.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InvalidUpload(
            "The file could not be read as a photo (damaged or incomplete)."
        ) from None
    clean = Image.new("RGB", im.size)
    clean.paste(im)
    return clean  # a fresh image: no EXIF, XMP, ICC, GPS or comment survives


def _encode(im: Image.Image, box: int) -> tuple[bytes, tuple[int, int]]:
    copy = im.copy()
    copy.thumbnail((box, box), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), copy.size


def webp_name(jpeg_name: str) -> str:
    """The WebP twin of a stored JPEG ("x.jpg" -> "x.webp", "x.t.jpg" -> "x.t.webp")."""
    return jpeg_name.removesuffix(".jpg") + ".webp"


def _webp_bytes(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "WEBP", quality=80, method=2)
    return out.getvalue()


def webp_path(photo: Photo, size: str) -> str:
    """The WebP file of a photo, made from its stored JPEG the first time it is asked
    for (photos stored before WebP twins existed). Derived data: written atomically
    and deleted with the photo."""
    path = webp_name(file_path(photo, size))
    if not os.path.exists(path):
        with Image.open(file_path(photo, size)) as im:
            _write_whole(path, _webp_bytes(im.convert("RGB")))
    return path


def _media_dir() -> str:
    path = current_app.config["MEDIA_DIR"]
    os.makedirs(path, exist_ok=True)
    return path


def _write_whole(path: str, data: bytes) -> None:
    """Write a file through a temporary one, so that no reader sees half of it."""
    tmp = f"{path}.{secrets.token_hex(4)}.part"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def stage_file(path: str, data: bytes) -> None:
    """Write a new file that belongs to the transaction: if it rolls back, the
    session hooks below remove the file again."""
    _write_whole(path, data)
    db.session.info.setdefault(_NEW_FILES, []).append(path)


def _write(name: str, data: bytes) -> None:
    stage_file(os.path.join(_media_dir(), name), data)


def store_image(
    im: Image.Image,
    *,
    uploader_id: int | None,
    kind: str,
    consent: bool,
    review_id: int | None = None,
    clinic_id: int | None = None,
) -> Photo:
    """Store an already-decoded image as a pending Photo (used by intake and demo data)."""
    limits = Limits.from_config()
    web, (width, height) = _encode(im, limits.web_size)
    thumb, _ = _encode(im, limits.thumb_size)
    stem = secrets.token_urlsafe(18)
    photo = Photo(
        uploader_id=uploader_id,
        review_id=review_id,
        clinic_id=clinic_id,
        kind=kind,
        storage_name=f"{stem}.jpg",
        thumb_name=f"{stem}.t.jpg",
        width=width,
        height=height,
        byte_size=len(web),
        consent_confirmed=consent,
        status="pending",
        **similarity.photo_hashes(im),
    )
    _write(photo.storage_name, web)
    _write(photo.thumb_name, thumb)
    for name, data in ((photo.storage_name, web), (photo.thumb_name, thumb)):
        with Image.open(io.BytesIO(data)) as sized:
            _write(webp_name(name), _webp_bytes(sized))
    db.session.add(photo)
    return photo


def ingest(data: bytes, *, consent: bool, **owner) -> Photo:
    """Validate and store one uploaded photo; raises InvalidUpload with a user message.
    `owner`: who uploaded it and what it belongs to, as `store_image` takes them."""
    if not consent:
        raise InvalidUpload("Confirm that the person shown agreed to the photo being published.")
    im = decode(data, Limits.from_config())
    photo = store_image(im, consent=consent, **owner)
    # Compared once, now, with every photo already on the site; pages read the result.
    db.session.flush()
    similarity.match_photo(photo, im, _media_dir())
    return photo


def delete_photo(photo: Photo) -> None:
    """Delete the row now and its files once the transaction commits."""
    doomed = db.session.info.setdefault(_DOOMED_FILES, [])
    for name in (photo.storage_name, photo.thumb_name):
        doomed.append(os.path.join(_media_dir(), name))
        doomed.append(os.path.join(_media_dir(), webp_name(name)))
    db.session.delete(photo)


def file_path(photo: Photo, size: str) -> str:
    name = photo.thumb_name if size == "thumb" else photo.storage_name
    return os.path.join(_media_dir(), name)


def similar_photos(photo: Photo) -> list[Photo]:
    """Other photos on the site that match this one (stored at upload, best first)."""
    return [m.photo for m in similarity.photo_matches([photo.id]).get(photo.id, [])]


def _unlink_all(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)
    _unlink_all(session.info.pop(_DOOMED_FILES, []))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    _unlink_all(session.info.pop(_NEW_FILES, []))
    session.info.pop(_DOOMED_FILES, None)


def visible_to(photo: Photo, user) -> bool:
    """Published photos of public items are public; otherwise only the uploader and
    moderators may see a photo."""
    from directory.models import Clinic, ResultCase, Review
    from directory.vocab import PUBLIC_CLINIC_STATUSES

    signed_in = user is not None and getattr(user, "is_authenticated", False)
    if signed_in and (
        user.is_moderator or (photo.uploader_id is not None and photo.uploader_id == user.id)
    ):
        return True
    if photo.status != "published":
        return False
    if photo.review_id is not None:
        review = db.session.get(Review, photo.review_id)
        if review is None or not review.is_public:
            return False
        if photo.followup_id is not None:
            from directory.models import FollowUp

            fu = db.session.get(FollowUp, photo.followup_id)
            if fu is None or fu.status != "published":
                return False
        clinic = db.session.get(Clinic, review.clinic_id)
        return clinic is not None and clinic.status in PUBLIC_CLINIC_STATUSES
    case = db.session.execute(
        db.select(ResultCase).where(
            (ResultCase.before_photo_id == photo.id)
            | (ResultCase.after_photo_id == photo.id)
            | (ResultCase.healed_photo_id == photo.id)
        )
    ).scalar_one_or_none()
    if case is None or case.status != "published":
        return False
    clinic = db.session.get(Clinic, case.clinic_id)
    return clinic is not None and clinic.status in PUBLIC_CLINIC_STATUSES
