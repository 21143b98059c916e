"""Near-duplicate text: MinHash signatures and LSH band keys (pure).

A text becomes the set of its content words (trust.features); two texts are
compared by the Jaccard similarity of those sets. Changing one word in six
keeps a copy at about 0.65, re-ordering its sentences changes nothing, while
two honest testimonials about SMP share 0.1 to 0.3 (`NEAR_DUPLICATE` is 0.5).

To find candidates without comparing a new text with every stored one, each
text gets a MinHash signature cut into `BANDS` bands of `ROWS` values; texts
sharing a band key are candidates (a pair at 0.5 shares one with probability
0.96, a pair at 0.1 with 0.03), and candidates are then compared exactly.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

from directory.trust import NEAR_DUPLICATE_JACCARD as NEAR_DUPLICATE
from directory.trust import features, jaccard

__all__ = ["BANDS", "NEAR_DUPLICATE", "ROWS", "band_keys", "features", "jaccard", "signature"]

BANDS = 25
ROWS = 3
_PRIME = (1 << 61) - 1


def _hash64(value: str) -> int:
    return struct.unpack("<Q", hashlib.blake2b(value.encode(), digest_size=8).digest())[0]


# Fixed, seedless coefficients: the same text has the same signature on every run.
_COEFFS = [
    (_hash64(f"a{i}") % (_PRIME - 1) + 1, _hash64(f"b{i}") % _PRIME) for i in range(BANDS * ROWS)
]


def similarity(a: str, b: str) -> float:
    return jaccard(features(a), features(b))


def signature(feats: Iterable[str]) -> list[int]:
    hashes = [_hash64(f) for f in feats]
    if not hashes:
        return []
    return [min((a * h + b) % _PRIME for h in hashes) for a, b in _COEFFS]


def band_keys(text: str) -> list[tuple[int, str]]:
    """(band number, key) pairs of the text's MinHash signature; none for a text
    with fewer than 2 content words (nothing to call a copy)."""
    feats = features(text)
    if len(feats) < 2:
        return []
    sig = signature(feats)
    keys = []
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(struct.pack(f"<{ROWS}Q", *chunk), digest_size=8).hexdigest()
        keys.append((band, digest))
    return keys
