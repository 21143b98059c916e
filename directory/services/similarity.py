"""Near-duplicate texts and photos, found once when an item is submitted and stored.

Texts: testimonials, result cases (title and notes) and clinics' own
descriptions share one index of MinHash band keys (directory.textprint); a new
text is compared exactly with the stored texts that share a key, and each pair
at or above textprint.NEAR_DUPLICATE is stored as a SimilarityMatch.

Photos: every stored photo carries several perceptual hashes and a grain print
(media.store_image calls `photo_hashes`); an upload is compared on its grain with
the stored photos whose hashes and colours are not plainly another picture
(directory.photoprint), at most `CANDIDATES` of them, and the best
`MAX_PHOTO_MATCHES` matches are kept, so the list stays useful to a moderator.
Queues and signals only read what is stored here.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import delete, insert, or_, select, tuple_

from directory import photoprint, textprint
from directory.extensions import db
from directory.models import Clinic, Photo, ResultCase, Review, SimilarityMatch, TextBand

log = logging.getLogger(__name__)

TEXT_TYPES = ("review", "result_case", "clinic")
MAX_PHOTO_MATCHES = 5
# Stored photos whose hashes and colours let them through, compared on their grain
# at most (closest hashes first): about 1 ms each.
CANDIDATES = 400
MAX_TEXT_MATCHES = 20


# --- texts ------------------------------------------------------------------------------


def text_of(item) -> str:
    if isinstance(item, Review):
        return " ".join(p for p in (item.title, item.text) if p)
    if isinstance(item, ResultCase):
        return " ".join(p for p in (item.title, item.notes) if p)
    if isinstance(item, Clinic):
        return item.description or ""
    raise TypeError(item)


def _texts(pairs: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    for item_type, model in (("review", Review), ("result_case", ResultCase), ("clinic", Clinic)):
        ids = [i for t, i in pairs if t == item_type]
        if ids:
            for row in db.session.execute(select(model).where(model.id.in_(ids))).scalars():
                out[(item_type, row.id)] = text_of(row)
    return out


def _store_best(kind: str, item_type: str, item_id: int, found: list, most: int) -> list:
    """Stage the `most` best of `found` (score, other type, other id, how) as matches."""
    found.sort(reverse=True)
    matches = [
        SimilarityMatch(
            kind=kind,
            item_type=item_type,
            item_id=item_id,
            other_type=other_type,
            other_id=other_id,
            score=round(score, 3),
            how=how,
        )
        for score, other_type, other_id, how in found[:most]
    ]
    db.session.add_all(matches)
    return matches


def index_text(item_type: str, item_id: int, text: str) -> list[SimilarityMatch]:
    """(Re)index one text and store its near-duplicates among the texts indexed
    before it. Returns the new matches (staged)."""
    if item_type not in TEXT_TYPES:
        raise ValueError(item_type)
    db.session.execute(
        delete(TextBand).where(TextBand.item_type == item_type, TextBand.item_id == item_id)
    )
    db.session.execute(
        delete(SimilarityMatch).where(
            SimilarityMatch.kind == "text",
            SimilarityMatch.item_type == item_type,
            SimilarityMatch.item_id == item_id,
        )
    )
    keys = textprint.band_keys(text)
    if not keys:
        return []
    rows = db.session.execute(
        select(TextBand.item_type, TextBand.item_id)
        .where(tuple_(TextBand.band, TextBand.bucket).in_(keys))
        .distinct()
    ).all()
    candidates = {(t, i) for t, i in rows if (t, i) != (item_type, item_id)}
    mine = textprint.features(text)
    found = []
    for (other_type, other_id), other_text in _texts(candidates).items():
        score = textprint.jaccard(mine, textprint.features(other_text))
        if score >= textprint.NEAR_DUPLICATE:
            found.append((score, other_type, other_id, "text"))
    matches = _store_best("text", item_type, item_id, found, MAX_TEXT_MATCHES)
    db.session.add_all(
        TextBand(item_type=item_type, item_id=item_id, band=b, bucket=k) for b, k in keys
    )
    return matches


# --- photos -----------------------------------------------------------------------------


def photo_hashes(im: Image.Image) -> dict[str, str | bytes]:
    return photoprint.hashes(im)


def _grain_of_thumbnail(photo_id: int, thumb_name: str, media_dir: str) -> bytes | None:
    """For a photo stored before grain prints existed (until `similarity-rebuild`)."""
    try:
        with Image.open(os.path.join(media_dir, thumb_name)) as im:
            return photoprint.grain_print(im.convert("RGB"))
    except OSError:
        log.warning("photo %s: thumbnail missing, not compared", photo_id)
        return None


def match_photo(photo: Photo, im: Image.Image, media_dir: str) -> list[SimilarityMatch]:
    """Compare a just-stored (flushed) photo with the photos stored before it; stage
    the best matches. `im` is the clean upload."""
    new = {
        "phash": photo.phash,
        "phash_centre": photo.phash_centre,
    }
    rows = db.session.execute(
        select(
            Photo.id,
            Photo.phash,
            Photo.phash_mirror,
            Photo.phash_centre,
            Photo.phash_centre_mirror,
            Photo.colour_print,
        ).where(Photo.id < photo.id)
    ).all()
    scored = []
    for pid, ph, phm, phc, phcm, colour in rows:
        old = {"phash": ph, "phash_mirror": phm, "phash_centre": phc, "phash_centre_mirror": phcm}
        bits = photoprint.coarse_distance(new, old)
        if bits > photoprint.COARSE_MAX_BITS:
            continue
        colour_gap = photoprint.colour_distance(photo.colour_print, colour)
        if colour_gap > photoprint.COLOUR_MAX:
            continue
        scored.append((bits, pid, colour_gap))
    scored.sort()
    scored = scored[:CANDIDATES]
    if not scored:
        return []
    grains = {
        pid: (g if g is not None else _grain_of_thumbnail(pid, thumb, media_dir))
        for pid, g, thumb in db.session.execute(
            select(Photo.id, Photo.grain_print, Photo.thumb_name).where(
                Photo.id.in_([pid for _, pid, _ in scored])
            )
        )
    }
    compared = [(bits, pid, gap) for bits, pid, gap in scored if grains.get(pid)]
    results = photoprint.detail_similarity(
        photoprint.Print(im), [grains[pid] for _, pid, _ in compared]
    )
    found = []
    for (bits, pid, colour_gap), (score, how) in zip(compared, results, strict=True):
        if score is None:
            if photoprint.flat_match(bits, colour_gap):
                found.append((1.0 - bits / 64, "photo", pid, "copy"))
        elif score >= photoprint.MATCH_MIN:
            found.append((score, "photo", pid, how))
    return _store_best("photo", "photo", photo.id, found, MAX_PHOTO_MATCHES)


@dataclass(frozen=True)
class PhotoMatch:
    photo: Photo
    score: float
    how: str


def photo_matches(photo_ids: list[int]) -> dict[int, list[PhotoMatch]]:
    """Stored matches of these photos, either way round, the best MAX_PHOTO_MATCHES
    first (one query each for the matches and the matched photos)."""
    if not photo_ids:
        return {}
    rows = list(
        db.session.execute(
            select(SimilarityMatch).where(
                SimilarityMatch.kind == "photo",
                or_(
                    SimilarityMatch.item_id.in_(photo_ids), SimilarityMatch.other_id.in_(photo_ids)
                ),
            )
        ).scalars()
    )
    wanted = set(photo_ids)
    pairs: dict[int, dict[int, tuple[float, str]]] = {pid: {} for pid in photo_ids}
    for m in rows:
        for mine, theirs in ((m.item_id, m.other_id), (m.other_id, m.item_id)):
            if mine in wanted and theirs != mine:
                best = pairs[mine].get(theirs)
                if best is None or best[0] < m.score:
                    pairs[mine][theirs] = (m.score, m.how)
    other_ids = {o for d in pairs.values() for o in d}
    photos = (
        {
            p.id: p
            for p in db.session.execute(select(Photo).where(Photo.id.in_(other_ids))).scalars()
        }
        if other_ids
        else {}
    )
    return {
        pid: sorted(
            (PhotoMatch(photos[o], s, how) for o, (s, how) in d.items() if o in photos),
            key=lambda m: (-m.score, m.photo.id),
        )[:MAX_PHOTO_MATCHES]
        for pid, d in pairs.items()
    }


# --- rebuilding (command line) ------------------------------------------------------------


def rebuild_texts() -> int:
    """Re-index every text, in memory: each is compared with the texts before it
    (clinics, then result cases, then testimonials, each in id order), exactly as
    `index_text` would have at submission. Returns the number of texts."""
    db.session.execute(delete(TextBand))
    db.session.execute(delete(SimilarityMatch).where(SimilarityMatch.kind == "text"))
    buckets: dict[tuple[int, str], list[int]] = defaultdict(list)
    items: list[tuple[str, int]] = []
    feats: list[frozenset[str]] = []
    bands, matches = [], []
    for item_type, model in (("clinic", Clinic), ("result_case", ResultCase), ("review", Review)):
        for row in db.session.execute(select(model).order_by(model.id)).scalars():
            text = text_of(row)
            keys = textprint.band_keys(text)
            mine = textprint.features(text)
            index = len(items)
            items.append((item_type, row.id))
            feats.append(mine)
            candidates = {i for key in keys for i in buckets.get(key, ())}
            found = sorted(
                ((round(textprint.jaccard(mine, feats[i]), 3), i) for i in candidates),
                reverse=True,
            )
            for score, i in [f for f in found if f[0] >= textprint.NEAR_DUPLICATE][
                :MAX_TEXT_MATCHES
            ]:
                matches.append(
                    {
                        "kind": "text",
                        "item_type": item_type,
                        "item_id": row.id,
                        "other_type": items[i][0],
                        "other_id": items[i][1],
                        "score": score,
                        "how": "text",
                    }
                )
            for key in keys:
                buckets[key].append(index)
                bands.append(
                    {"item_type": item_type, "item_id": row.id, "band": key[0], "bucket": key[1]}
                )
    if bands:
        db.session.execute(insert(TextBand), bands)
    if matches:
        db.session.execute(insert(SimilarityMatch), matches)
    return len(items)


def rebuild_photos(media_dir: str) -> int:
    """Recompute every photo's hashes and matches from its stored file, in id order."""
    db.session.execute(delete(SimilarityMatch).where(SimilarityMatch.kind == "photo"))
    photos = list(db.session.execute(select(Photo).order_by(Photo.id)).scalars())
    done: list[int] = []
    for p in photos:
        path = os.path.join(media_dir, p.storage_name)
        try:
            with Image.open(path) as im:
                clean = im.convert("RGB")
        except OSError:
            continue
        for k, v in photo_hashes(clean).items():
            setattr(p, k, v)
        db.session.flush()
        match_photo(p, clean, media_dir)
        done.append(p.id)
    return len(done)
