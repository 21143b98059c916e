"""Small before/after scalp pictures drawn with Pillow for the demo data.

Realism follows the clinic's skill: good work has small dots of several shades
with natural spacing and a soft, irregular hairline; poor work has big uniform
dots, a blue-green cast and a hard, painted-on hairline.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw, ImageFilter

SIZE = 320  # drawing coordinates
SCALE = 3  # pixels per coordinate: 960 px pictures, large enough to zoom in on the dots
SKIN = {
    1: (241, 214, 196),
    2: (230, 193, 165),
    3: (205, 162, 125),
    4: (170, 120, 84),
    5: (120, 80, 52),
    6: (78, 52, 36),
}
HAIR = {
    "black": (25, 22, 22),
    "dark_brown": (48, 34, 26),
    "light_brown": (96, 70, 48),
    "blond": (150, 124, 86),
    "red": (120, 56, 32),
    "grey": (110, 110, 110),
}


def _px(box) -> tuple:
    return tuple(v * SCALE for v in box)


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("RGB", (SIZE * SCALE, SIZE * SCALE))
    return im, ImageDraw.Draw(im)


def _head(draw: ImageDraw.ImageDraw, skin: tuple[int, int, int]) -> None:
    draw.rectangle(_px((0, 0, SIZE, SIZE)), fill=(226, 230, 236))
    draw.ellipse(_px((30, 40, SIZE - 30, SIZE + 140)), fill=skin)
    shade = tuple(max(0, c - 18) for c in skin)
    draw.ellipse(_px((40, SIZE - 40, SIZE - 40, SIZE + 160)), fill=shade)


def _inside(x: float, y: float) -> bool:
    cx, cy, rx, ry = SIZE / 2, (40 + SIZE + 140) / 2, SIZE / 2 - 38, (SIZE + 100) / 2 - 8
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1


def before(rng: random.Random, skin_type: int, hair_colour: str, stage_level: int) -> Image.Image:
    im, d = _canvas()
    _head(d, SKIN[skin_type])
    hair = HAIR[hair_colour]
    bald_top = 60 + stage_level * 22  # more hair loss: hair starts lower
    for _ in range(1400):
        x, y = rng.uniform(30, SIZE - 30), rng.uniform(40, SIZE)
        if not _inside(x, y):
            continue
        crown = abs(x - SIZE / 2) < 40 + stage_level * 12 and y < bald_top + 60
        if y < bald_top or (crown and rng.random() < 0.85):
            continue
        d.line(_px((x, y, x + rng.uniform(-2, 2), y + rng.uniform(2, 5))), fill=hair, width=SCALE)
    return im.filter(ImageFilter.SMOOTH)


def after(
    rng: random.Random, skin_type: int, hair_colour: str, skill: float, months: int
) -> Image.Image:
    """skill: 1 (poor) to 5 (excellent); months since the last session (fresh dots are crisper)."""
    im, d = _canvas()
    skin = SKIN[skin_type]
    _head(d, skin)
    q = max(0.0, min(1.0, (skill - 1) / 4))
    base = HAIR[hair_colour]
    # Poor work drifts towards blue-green and uses one flat shade.
    tint = (1 - q) * 0.6
    pigment = (
        int(base[0] * (1 - tint)),
        int(base[1] * (1 - tint) + 40 * tint),
        int(base[2] * (1 - tint) + 70 * tint),
    )
    shades = 1 if q < 0.35 else 3
    radius = 2.6 - 1.8 * q  # big dots when poor
    hairline_y = 78 + rng.uniform(-4, 4)
    count = int(900 + 2600 * q)
    for _ in range(count):
        x, y = rng.uniform(30, SIZE - 30), rng.uniform(40, SIZE)
        if not _inside(x, y):
            continue
        edge = hairline_y + 10 * math.sin(x / 23) * q
        if y < edge - (18 * q) * rng.random():
            continue
        if q > 0.5 and y < edge + 20 and rng.random() < (edge + 20 - y) / 30:
            continue  # good work feathers the hairline
        k = rng.randrange(shades)
        f = 1.0 - 0.18 * k
        mix = 0.55 + 0.35 * q * rng.random() if months >= 1 else 0.9
        col = tuple(int(pigment[i] * f * mix + skin[i] * (1 - mix)) for i in range(3))
        r = radius * (0.7 + 0.6 * rng.random()) if q > 0.5 else radius
        d.ellipse(_px((x - r, y - r, x + r, y + r)), fill=col)
    if months >= 12 and q < 0.5:
        im = im.filter(ImageFilter.GaussianBlur(1.2 * SCALE))  # pigment too deep: blurred dots
    return im
