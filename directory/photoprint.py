"""Photo similarity that survives a mirror, a crop and a re-encode (pure: Pillow, numpy).

Two stages, both computed when a photo is uploaded, never on a page view:

1. `hashes`: four 64-bit perceptual hashes (of the image, of its mirror image, of
   its centre crop and of that crop's mirror), a 4x4 colour print and the grain
   print below, all stored on the photo. The hashes and colours rule out, cheaply,
   the stored photos that are plainly another picture (`coarse_distance`,
   `colour_distance`). They cannot do more: they see the overall shape, and every
   demo drawing is a head on the same background, so look-alikes are a few bits
   apart while a 12 % crop of one drawing is up to 28 bits from it.
2. `detail_similarity` decides on the grain: the dots, strands and pores of a
   picture without the outlines of its shapes. `_grain` keeps what a morphological
   opening and closing 5 px wide take away (a dot, a strand: anything narrower)
   and nothing else (the edge of the head, a hairline, a gradient), as a ternary
   map: lighter +1, darker -1, neither 0. Maps are made at 128x128 of luminance
   and at 64x64 of red minus green, which decides only where neither picture has
   grain in luminance (blond strands on tanned skin differ in colour, hardly in
   brightness).

   An upload is turned into 74 variants: as is and mirrored, and for crops of 94 %
   and 88 % anchored at nine places, either the stored photo's frame with the
   upload where it was cut from (the upload is a crop) or the stored photo's frame
   cut out of the upload (the stored photo is a crop). Every candidate's stored
   grain print is compared with all variants in one numpy product; the score is
   the median correlation of the 16x16 blocks with grain in both, under the best
   variant.

   Demo drawings (benchmarks.trust_similarity, tests/services/test_photo_matching):
   a copy mirrored, cropped by 6 or 12 %, brightened or re-encoded smaller scores
   0.45-0.97 (about 0.35 for a few low-contrast drawings shrunk to 220 px); two
   different drawings with the same parameters score under 0.25. The grain is
   compared to about half a pixel at 128 px, so a crop off those steps (3 %, 9 %,
   15 %, one side only) or a rotation is not confirmed.

The first version confirmed on a Gaussian high-pass: the outline of the head and of
its shading survived it, the same in every drawing, and different drawings matched
at 0.97.
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image, ImageOps

SIZE = 128  # the grain map's side (luminance); colour at half that
BLOCK = 16
GRAIN = 5  # as wide as this (px at SIZE) or wider is shape, not grain
COLOUR_GRAIN = 3  # the same at SIZE / 2
GRAIN_MIN = 1.0  # grey levels above or below the opened/closed image
CENTRE = 0.8
COARSE_MAX_BITS = 28  # a 12 % crop of a corner is up to 28 bits away
COLOUR_MAX = 2.5  # and up to 2 in colour
MATCH_MIN = 0.4
FLAT_MAX_BITS = 4
FLAT_MAX_COLOUR = 0.5
_SCALES = (0.94, 0.88)
_ANCHORS = (0.0, 0.5, 1.0)
_MIN_TEXTURED_BLOCKS = 6
_TEXTURED_NORM = (3.0, 6.0)  # about 10 grain pixels in a block (colour: 4 px each)
_WORKING_SIDE = 384  # uploads are reduced to this before the variants are cut


def _centre(im: Image.Image) -> Image.Image:
    w, h = im.size
    dx, dy = int(w * (1 - CENTRE) / 2), int(h * (1 - CENTRE) / 2)
    return im.crop((dx, dy, w - dx, h - dy))


def hashes(im: Image.Image) -> dict[str, str | bytes]:
    """The stored prints of an upright RGB image (columns of `Photo`)."""
    mirror = ImageOps.mirror(im)
    small = np.asarray(im.convert("RGB").resize((4, 4), Image.Resampling.BOX), dtype=np.uint8)
    return {
        "phash": str(imagehash.phash(im)),
        "phash_mirror": str(imagehash.phash(mirror)),
        "phash_centre": str(imagehash.phash(_centre(im))),
        "phash_centre_mirror": str(imagehash.phash(_centre(mirror))),
        "colour_print": small.tobytes().hex(),
        "grain_print": grain_print(im),
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


# --- grain -------------------------------------------------------------------------------


def _working(im: Image.Image) -> tuple[Image.Image, Image.Image]:
    """Luminance and red minus green as float images, at most _WORKING_SIDE a side."""
    rgb = im.convert("RGB")
    w, h = rgb.size
    if max(w, h) > _WORKING_SIDE:
        rgb = rgb.resize((min(w, _WORKING_SIDE), min(h, _WORKING_SIDE)), Image.Resampling.BOX)
    r, g, _ = (np.asarray(c, dtype=np.float32) for c in rgb.split())
    return rgb.convert("F"), Image.fromarray(r - g)


def _spread(a: np.ndarray, k: int, op) -> np.ndarray:
    """Running max or min over a k x k square of the last two axes (edges repeated)."""
    r = k // 2
    n0, n1 = a.shape[-2:]
    p = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(r, r), (r, r)], mode="edge")
    rows = p[..., :n1]
    for i in range(1, k):
        rows = op(rows, p[..., i : i + n1])
    out = rows[..., :n0, :]
    for i in range(1, k):
        out = op(out, rows[..., i : i + n0, :])
    return out


def _grain(a: np.ndarray, k: int) -> np.ndarray:
    """Ternary maps (int8) of what is narrower than k px in images a (..., h, w):
    +1 lighter, -1 darker than the opened and closed image around it."""
    closed = _spread(_spread(a, k, np.maximum), k, np.minimum)
    opened = _spread(_spread(a, k, np.minimum), k, np.maximum)
    rest = a - 0.5 * (opened + closed)
    return (np.sign(rest) * (np.abs(rest) > GRAIN_MIN)).astype(np.int8)


def _grain_maps(
    channels: tuple[Image.Image, Image.Image], boxes: list[tuple | None], side: int
) -> np.ndarray:
    """(len(boxes), 2, side, side): the grain of each part of the image (None: all
    of it) resized to side x side, in luminance, and in colour made at half the size
    and repeated (colour is stored at half resolution in most JPEGs)."""
    lum, colour = channels
    half = max(1, round(side / 2))
    box = Image.Resampling.BOX
    a = np.stack([np.asarray(lum.resize((side, side), box, b), np.float32) for b in boxes])
    c = np.stack([np.asarray(colour.resize((half, half), box, b), np.float32) for b in boxes])
    idx = np.arange(side) * half // side
    return np.stack([_grain(a, GRAIN), _grain(c, COLOUR_GRAIN)[:, idx][:, :, idx]], axis=1)


def grain_print(im: Image.Image) -> bytes:
    """The stored grain of an image: SIZE x SIZE of luminance and a quarter of that of
    colour, 2 bits a pixel (5 KB)."""
    m = _grain_maps(_working(im), [None], SIZE)[0]
    return b"".join(
        np.packbits(x != 0).tobytes() + np.packbits(x > 0).tobytes() for x in (m[0], m[1][::2, ::2])
    )


def _unpack(data: bytes) -> np.ndarray:
    n, h = SIZE * SIZE, (SIZE // 2) ** 2
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).astype(np.int8)
    lum = (bits[:n] * (2 * bits[n : 2 * n] - 1)).reshape(SIZE, SIZE)
    colour = (bits[2 * n : 2 * n + h] * (2 * bits[2 * n + h : 2 * n + 2 * h] - 1)).reshape(
        SIZE // 2, SIZE // 2
    )
    return np.stack([lum, colour.repeat(2, axis=0).repeat(2, axis=1)])


def _blocks(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, SIZE, SIZE) maps -> zero-mean unit blocks (n, 2, 64, 256) and whether
    each block has grain enough to compare (n, 2, 64)."""
    k = SIZE // BLOCK
    x = maps.astype(np.float32).reshape(len(maps), 2, k, BLOCK, k, BLOCK)
    x = x.transpose(0, 1, 2, 4, 3, 5).reshape(len(maps), 2, k * k, BLOCK * BLOCK)
    x = x - x.mean(axis=3, keepdims=True)
    norm = np.sqrt((x * x).sum(axis=3))
    textured = norm > np.array(_TEXTURED_NORM, np.float32)[None, :, None]
    return x / np.where(textured, norm, 1.0)[..., None], textured


class Print:
    """An upload's variants for the comparison (built once, when first needed)."""

    def __init__(self, im: Image.Image):
        self._channels = _working(im)
        self._variants: tuple[np.ndarray, np.ndarray, list[str]] | None = None

    @property
    def variants(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        if self._variants is None:
            w, h = self._channels[0].size
            # Room around the upload for where it sits in a larger stored photo.
            pad = int(max(w, h) * (1 - min(_SCALES)) / min(_SCALES)) + 2
            padded = tuple(
                Image.fromarray(np.pad(np.asarray(c), pad, mode="edge")) for c in self._channels
            )
            boxes, names, inside = [(pad, pad, pad + w, pad + h)], ["copy"], [None]
            for f in _SCALES:
                g = (1 - f) / f
                for ax in _ANCHORS:
                    for ay in _ANCHORS:
                        # The upload is a crop of the stored photo: the stored frame
                        # reaches beyond the upload, which sits where it was cut.
                        left, top = pad - ax * g * w, pad - ay * g * h
                        boxes.append((left, top, left + w / f, top + h / f))
                        x0, y0 = (1 - f) * ax * SIZE, (1 - f) * ay * SIZE
                        inside.append((x0, y0, x0 + f * SIZE, y0 + f * SIZE))
                        # The stored photo is a crop of the upload: cut its frame out.
                        left, top = pad + (w - w * f) * ax, pad + (h - h * f) * ay
                        boxes.append((left, top, left + w * f, top + h * f))
                        inside.append(None)
                        names += ["copy+cropped"] * 2
            maps = _grain_maps(padded, boxes, SIZE)
            centres = np.arange(SIZE) + 0.5
            for m, region in zip(maps, inside, strict=True):
                if region is not None:  # no grain where the upload is not
                    x0, y0, x1, y1 = region
                    m[:, ~((centres >= y0) & (centres <= y1)), :] = 0
                    m[:, :, ~((centres >= x0) & (centres <= x1))] = 0
            # A mirrored copy: the same variants, mirrored (the anchors are symmetric).
            both = np.concatenate([maps, maps[..., ::-1]])
            names += [n.replace("copy", "mirrored") for n in names]
            self._variants = (*_blocks(both), names)
        return self._variants


def _median(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Median over axis 0 of x where ok (0 where nothing is)."""
    v = np.where(ok, x, np.inf)
    v.sort(axis=0)
    count = ok.sum(axis=0)
    lo = np.take_along_axis(v, np.maximum((count - 1) // 2, 0)[None], 0)[0]
    hi = np.take_along_axis(v, np.maximum(count // 2, 0)[None], 0)[0]
    return np.where(count > 0, 0.5 * (lo + hi), 0.0)


def detail_similarity(new: Print, stored: list[bytes]) -> list[tuple[float | None, str]]:
    """(score, how) for each stored grain print: the best variant of the upload, with
    how the copy was made. Score None: too little grain in both to compare this way
    (flat graphics)."""
    if not stored:
        return []
    vb, vok, names = new.variants
    sb, sok = _blocks(np.stack([_unpack(s) for s in stored]))
    # Plain einsum, not matmul: BLAS threads stall on a busy web server.
    lum = np.einsum("vbp,nbp->bvn", vb[:, 0], sb[:, 0])
    colour = np.einsum("vbp,nbp->bvn", vb[:, 1], sb[:, 1])
    lum_ok = vok[:, 0].T[:, :, None] & sok[:, 0].T[:, None, :]
    colour_ok = vok[:, 1].T[:, :, None] & sok[:, 1].T[:, None, :]
    # Luminance decides where both have grain in it; colour only where neither has.
    no_lum = ~(vok[:, 0].T[:, :, None] | sok[:, 0].T[:, None, :])
    ok = lum_ok | (colour_ok & no_lum)
    dots = np.where(lum_ok, lum, colour)
    enough = ok.sum(axis=0) >= _MIN_TEXTURED_BLOCKS
    scores = np.where(enough, _median(dots, ok), -1.0)
    out: list[tuple[float | None, str]] = []
    for j in range(len(stored)):
        if not enough[:, j].any():
            out.append((None, "copy"))
        else:
            i = int(np.argmax(scores[:, j]))
            out.append((float(scores[i, j]), names[i]))
    return out


def flat_match(coarse_bits: int, colour: float) -> bool:
    """For images without texture, near-identical hashes and colours decide."""
    return coarse_bits <= FLAT_MAX_BITS and colour <= FLAT_MAX_COLOUR
