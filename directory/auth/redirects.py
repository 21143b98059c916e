"""Where to go after logging in: only ever a path on this site (docs/security.md §16)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# A local path: one slash, then a character that is neither a slash nor a backslash.
_LOCAL = re.compile(r"^/(?![/\\])[\x21-\x7e]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a plain local path (like "/account?tab=1"), else `default`.

    Refused: anything with a scheme or host, protocol-relative forms (//, /\\, \\\\),
    control characters or whitespace anywhere (browsers strip tabs and newlines,
    turning "/\\t/evil" into "//evil"), and forms that become one of those once
    percent-decoded (some proxies and browsers decode before resolving).
    """
    if not target or len(target) > 2000:
        return default
    if not _LOCAL.match(target):
        return default
    value = target
    for _ in range(4):
        parts = urlsplit(value)
        if (
            parts.scheme
            or parts.netloc
            or not value.startswith("/")
            or value[1:2] in ("/", "\\")
            or _CONTROL.search(value)
        ):
            return default
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    else:
        return default
    return target
