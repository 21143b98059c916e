"""Look-alike drawings never match each other; edited copies of one match it and only
it. Real Pillow drawings (directory.demo_images) uploaded through media.ingest, the
intake every upload uses; the matches are the ones stored for moderators."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageOps
from sqlalchemy import func, select

from directory import demo_images
from directory.extensions import db
from directory.models import Photo, SimilarityMatch
from directory.services import media, similarity

# Drawings made with the same parameters: the same head, the same colours and the
# same hairline, told apart only by where their dots and strands fall.
LOOK_ALIKES = [
    *(("before", seed, 6, "dark_brown", 7) for seed in (1, 2, 3)),  # bald, dark on dark
    *(("before", seed, 4, "blond", 3) for seed in (4, 5)),  # blond on tan: colour only
    *(("after", seed, 3, "dark_brown", 4.5, 6) for seed in (6, 7, 8)),
    *(("after", seed, 1, "black", 1.5, 12) for seed in (9, 10)),  # poor work, blurred
]


def drawing(kind, seed, *args) -> Image.Image:
    rng = random.Random(seed)
    return demo_images.before(rng, *args) if kind == "before" else demo_images.after(rng, *args)


def jpeg(im: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    im.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def crop(im: Image.Image, left, top, right, bottom) -> Image.Image:
    w, h = im.size
    return im.crop((int(w * left), int(h * top), w - int(w * right), h - int(h * bottom)))


EDITS = {
    "mirrored": ImageOps.mirror,
    "cropped 6 %": lambda im: crop(im, 0.06, 0, 0, 0.06),
    "mirrored + cropped 6 %": lambda im: crop(ImageOps.mirror(im), 0.06, 0, 0, 0.06),
    "centre cropped 6 %": lambda im: crop(im, 0.03, 0.03, 0.03, 0.03),
    "cropped 12 %": lambda im: crop(im, 0, 0.12, 0.12, 0),
    "brighter, smaller, re-encoded": lambda im: im.point(lambda v: min(255, int(v * 1.12))).resize(
        (220, 220)
    ),
}


def upload(im: Image.Image, quality: int = 90):
    photo = media.ingest(jpeg(im, quality), uploader_id=None, kind="review", consent=True)
    db.session.flush()
    return photo


def photo_match_count() -> int:
    return db.session.execute(
        select(func.count()).select_from(SimilarityMatch).where(SimilarityMatch.kind == "photo")
    ).scalar_one()


def test_look_alike_drawings_do_not_match_but_their_edited_copies_do(app):
    with app.app_context():
        drawings = [drawing(*spec) for spec in LOOK_ALIKES]
        photos = [upload(im) for im in drawings]
        assert photo_match_count() == 0, "different drawings matched each other"

        for index in (0, 3, 5):  # bald, blond on tan, dotted
            original = photos[index]
            look_alikes = {p.id for p in photos} - {original.id}
            for name, edit in EDITS.items():
                copy = upload(edit(drawings[index]), quality=75)
                found = {m.photo.id: m for m in similarity.photo_matches([copy.id])[copy.id]}
                assert original.id in found, (LOOK_ALIKES[index], name)
                assert not look_alikes & found.keys(), (LOOK_ALIKES[index], name)
                how = found[original.id].how  # the copies of one drawing match each other too
                assert ("mirrored" in how) == ("mirrored" in name), (name, how)
                assert ("cropped" in how) == ("cropped" in name), (name, how)
        db.session.rollback()


def test_photos_stored_before_grain_prints_are_compared_and_rebuilt(app):
    """A photo from before the upgrade (no grain print) is compared through its
    thumbnail; `similarity-rebuild` stores its grain print and finds the same match."""
    with app.app_context():
        im = drawing("after", 11, 2, "black", 4, 6)
        old = upload(im)
        old.grain_print = None
        db.session.flush()
        copy = upload(crop(ImageOps.mirror(im), 0.06, 0, 0, 0.06))
        assert [m.photo.id for m in similarity.photo_matches([copy.id])[copy.id]] == [old.id]
        db.session.commit()

        assert similarity.rebuild_photos(app.config["MEDIA_DIR"]) == 2
        db.session.commit()
        assert db.session.get(Photo, old.id).grain_print
        found = similarity.photo_matches([copy.id])[copy.id]
        assert [(m.photo.id, m.how) for m in found] == [(old.id, "mirrored+cropped")]
