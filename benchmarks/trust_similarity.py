"""Photo similarity at upload (in process): time per upload, how often look-alike
demo drawings match each other, and how many stolen copies are caught.

Uploads BENCH_PHOTOS different demo drawings (default 120) through media.ingest,
then 20 copies of them, each mirrored, cropped by 6 %, both, or brightened and
re-encoded smaller.

    python -m benchmarks.trust_similarity
    BENCH_PHOTOS=60 python -m benchmarks.trust_similarity
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time

from PIL import ImageOps

from directory import create_app, demo_images, photoprint
from directory.extensions import db
from directory.models import Photo, SimilarityMatch
from directory.services import media, similarity
from tests.adversarial.world import crop, jpeg


def main() -> None:
    n_photos = int(os.environ.get("BENCH_PHOTOS", 120))
    tmp = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "b" * 40,
            "INSTANCE_PATH": tmp,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
        }
    )
    rng = random.Random(2026)
    with app.app_context():
        db.create_all()
        drawings, times = [], []
        for i in range(n_photos):
            skin, hair = rng.randint(1, 6), rng.choice(list(demo_images.HAIR))
            if i % 2:
                im = demo_images.after(rng, skin, hair, rng.uniform(1, 5), rng.choice([0, 6, 12]))
            else:
                im = demo_images.before(rng, skin, hair, rng.randint(2, 7))
            drawings.append(im)
            t = time.perf_counter()
            media.ingest(jpeg(im), uploader_id=None, kind="after", consent=True)
            db.session.flush()
            times.append(time.perf_counter() - t)
        db.session.commit()
        pairs = db.session.execute(
            db.select(SimilarityMatch.item_id, SimilarityMatch.other_id).where(
                SimilarityMatch.kind == "photo"
            )
        ).all()
        # The margin: the best score of each drawing against every other one.
        grains = [
            g for g in db.session.execute(db.select(Photo.grain_print).order_by(Photo.id)).scalars()
        ]
        closest = 0.0
        for i, im in enumerate(drawings):
            scores = photoprint.detail_similarity(
                photoprint.Print(im), grains[:i] + grains[i + 1 :]
            )
            closest = max([closest] + [s for s, _ in scores if s is not None])
        per_photo = {}
        for a, b in pairs:
            per_photo[a] = per_photo.get(a, 0) + 1
            per_photo[b] = per_photo.get(b, 0) + 1
        edits = [
            ("mirrored", ImageOps.mirror),
            ("cropped 6 %", lambda im: crop(im, 0.06)),
            ("mirrored + cropped", lambda im: crop(ImageOps.mirror(im), 0.06)),
            (
                "brighter, smaller",
                lambda im: im.point(lambda v: min(255, int(v * 1.12))).resize((220, 220)),
            ),
        ]
        caught = {name: 0 for name, _ in edits}
        for k in range(20):
            name, edit = edits[k % len(edits)]
            original = 1 + (k * 7) % n_photos
            photo = media.ingest(
                jpeg(edit(drawings[original - 1])), uploader_id=None, kind="review", consent=True
            )
            db.session.flush()
            found = similarity.photo_matches([photo.id])[photo.id]
            caught[name] += any(m.photo.id == original for m in found)
        db.session.commit()

    print(f"photos uploaded: {n_photos} different demo drawings")
    print(
        f"  upload with hashing and matching: p50 {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms"
    )
    print(
        f"  photos matching another drawing: {len(per_photo)} of {n_photos}; "
        f"most matches for one photo: {max(per_photo.values(), default=0)}"
    )
    print(
        f"  closest two different drawings: score {closest:.2f} "
        f"(a match needs {photoprint.MATCH_MIN:.2f})"
    )
    print("  stolen copies caught: " + ", ".join(f"{k} {v}/5" for k, v in caught.items()))


if __name__ == "__main__":
    main()
