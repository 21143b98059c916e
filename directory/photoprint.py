"""Photo similarity that survives a mirror, a crop and a re-encode (pure: Pillow, numpy).

Two stages, both computed when a photo is uploaded, never on a page view:

1. `hashes`: four 64-bit perceptual hashes (of the image, of its mirror image, of
   its centre crop and of that crop's mirror) and a 4x4 colour print. They are
   stored on the photo and pick, cheaply, the few stored photos that could be
   the same picture (`coarse_distance`, `colour_distance`).
2. `detail_similarity` confirms a candidate on the fine texture — dots, hair,
   skin — rather than on the overall shape. Both images are reduced to a
   128 px grey square, high-passed and cut into 64 blocks; the score is the
   median correlation of the textured blocks, under the best of 38 alignments
   (mirrored or not, crops of 94 % and 88 % anchored at nine places). A copy,
   even mirrored, cropped by 6-12 % or re-encoded smaller, scores above 0.65;
   two different drawings of a scalp score near 0.1, however alike their shape.

Global 64-bit hashes alone cannot do both: every demo drawing is a head on the
same background, so they are all within a few bits of each other, while a 6 %
crop moves a copy further than that.
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image, ImageFilter, ImageOps

SIZE = 128
BLOCK = 16
CENTRE = 0.8
COARSE_MAX_BITS = 22
COLOUR_MAX = 1.0
CANDIDATES = 12
MATCH_MIN = 0.65
FLAT_MAX_BITS = 4
FLAT_MAX_COLOUR = 0.5
_SCALES = (1.0, 0.94, 0.88)
_ANCHORS = (0.0, 0.5, 1.0)
_MIN_TEXTURED_BLOCKS = 12


def _centre(im: Image.Image) -> Image.Image:
    w, h = im.size
    dx, dy = int(w * (1 - CENTRE) / 2), int(h * (1 - CENTRE) / 2)
    return im.crop((dx, dy, w - dx, h - dy))


def hashes(im: Image.Image) -> dict[str, str]:
    """The stored hashes of an upright RGB image."""
    mirror = ImageOps.mirror(im)
    small = np.asarray(im.convert("RGB").resize((4, 4), Image.Resampling.BOX), dtype=np.uint8)
    return {
        "phash": str(imagehash.phash(im)),
        "phash_mirror": str(imagehash.phash(mirror)),
        "phash_centre": str(imagehash.phash(_centre(im))),
        "phash_centre_mirror": str(imagehash.phash(_centre(mirror))),
        "colour_print": small.tobytes().hex(),
    }


def _bits(a: str | None, b: str | None) -> int:
    if not a or not b:
        return 64
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


def coarse_distance(new: dict[str, str], old: dict[str, str]) -> int:
    """Fewest differing bits between the new image (as is, or its centre) and the
    stored one (as is, mirrored, centre, centre mirrored)."""
    return min(
        _bits(new["phash"], old.get("phash")),
        _bits(new["phash"], old.get("phash_mirror")),
        _bits(new["phash_centre"], old.get("phash_centre")),
        _bits(new["phash_centre"], old.get("phash_centre_mirror")),
    )


def colour_distance(a: str | None, b: str | None) -> float:
    """Difference of the 4x4 colour prints as chromaticity (brightness-independent),
    in hundredths; 100 when unknown."""
    if not a or not b:
        return 100.0
    pa = np.frombuffer(bytes.fromhex(a), dtype=np.uint8).reshape(4, 4, 3).astype(np.float32)
    pb = np.frombuffer(bytes.fromhex(b), dtype=np.uint8).reshape(4, 4, 3).astype(np.float32)
    ca = pa / (pa.sum(axis=2, keepdims=True) + 1e-6)
    cb = pb / (pb.sum(axis=2, keepdims=True) + 1e-6)
    # A mirrored copy has its colour print mirrored too.
    return float(min(np.abs(ca - cb).mean(), np.abs(ca[:, ::-1] - cb).mean()) * 100)


def _grey(im: Image.Image) -> Image.Image:
    return im.convert("L").resize((SIZE, SIZE), Image.Resampling.BOX)


def _texture(grey: Image.Image) -> np.ndarray:
    """Ternary high-pass (-1, 0, 1) cut into zero-mean blocks: (blocks, BLOCK*BLOCK)."""
    a = np.asarray(grey, dtype=np.float32)
    h = a - np.asarray(grey.filter(ImageFilter.GaussianBlur(2.5)), dtype=np.float32)
    t = np.sign(h) * (np.abs(h) > 2.0)
    k = SIZE // BLOCK
    x = t.reshape(k, BLOCK, k, BLOCK).transpose(0, 2, 1, 3).reshape(k * k, BLOCK * BLOCK)
    return x - x.mean(axis=1, keepdims=True)


def _alignments(grey: Image.Image) -> tuple[np.ndarray, list[str]]:
    out, names = [], []
    for mirrored in (False, True):
        base = ImageOps.mirror(grey) if mirrored else grey
        for f in _SCALES:
            cw = int(SIZE * f)
            anchors = _ANCHORS if f < 1 else (0.5,)
            for ax in anchors:
                for ay in anchors:
                    x0, y0 = int((SIZE - cw) * ax), int((SIZE - cw) * ay)
                    crop = base.crop((x0, y0, x0 + cw, y0 + cw))
                    if f < 1:
                        crop = crop.resize((SIZE, SIZE), Image.Resampling.BILINEAR)
                    out.append(_texture(crop))
                    how = "mirrored" if mirrored else "copy"
                    names.append(how + ("+cropped" if f < 1 else ""))
    return np.stack(out), names


class Print:
    """What the confirmation stage needs of one image (built once per image)."""

    def __init__(self, im: Image.Image):
        grey = _grey(im)
        self.texture = _texture(grey)
        self._grey = grey
        self._aligned: tuple[np.ndarray, list[str]] | None = None

    @property
    def aligned(self) -> tuple[np.ndarray, list[str]]:
        if self._aligned is None:
            self._aligned = _alignments(self._grey)
        return self._aligned


def _best(a: np.ndarray, variants: np.ndarray) -> tuple[float | None, int]:
    na = np.sqrt((a * a).sum(axis=1))
    nv = np.sqrt((variants * variants).sum(axis=2))
    dots = (variants * a[None]).sum(axis=2)
    ok = (na[None] > 4) & (nv > 4)
    with np.errstate(invalid="ignore", divide="ignore"):
        ncc = np.where(ok, dots / (na[None] * nv + 1e-6), np.nan)
    enough = ok.sum(axis=1) >= _MIN_TEXTURED_BLOCKS
    if not enough.any():
        return None, 0  # too little texture to tell
    scores = np.zeros(len(variants))
    scores[enough] = np.nanmedian(ncc[enough], axis=1)
    i = int(np.argmax(scores))
    return float(scores[i]), i


def detail_similarity(new: Print, old: Print) -> tuple[float | None, str]:
    """(score, how): the best alignment either way (the new photo a crop of the old,
    or the old a crop of the new), with how the copy was made. Score None: the
    images have too little texture to compare this way (flat graphics)."""
    s1, i1 = _best(new.texture, old.aligned[0])
    s2, i2 = _best(old.texture, new.aligned[0])
    if s1 is None and s2 is None:
        return None, "copy"
    if s2 is None or (s1 is not None and s1 >= s2):
        return s1, old.aligned[1][i1]
    return s2, new.aligned[1][i2]


def flat_match(coarse_bits: int, colour: float) -> bool:
    """For images without texture, near-identical hashes and colours decide."""
    return coarse_bits <= FLAT_MAX_BITS and colour <= FLAT_MAX_COLOUR
