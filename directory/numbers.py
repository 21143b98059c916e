"""Numbers and ids from outside: ASCII digits within the database's integer range.

Python's `int()` accepts far more than a person types as a number: Unicode digits
(`"٣"`, `"３"`), underscores (`"1_0"`), surrounding spaces, and it raises on
superscripts and circled digits (`"²"`, `"①"`) that `str.isdigit()` calls digits.
The database refuses larger numbers than its columns hold: SQLite's integers stop
at 2**63 - 1 (a larger id is an OverflowError in the driver), PostgreSQL's INTEGER
columns, which every id of the schema is, at 2**31 - 1 ("integer out of range").
Every number or id taken from a URL, a query string or a form goes through
`parse()`: ASCII digits only, within bounds, else None.

create_app replaces the app's `int` URL converter with `IntegerConverter` below (the
same class name, so code that inspects a rule's converters keeps working): every
`<int:review_id>` in any route matches ASCII digits only and answers 404 for an id
beyond the database's range, without touching a route decorator.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter as _WerkzeugIntegerConverter
from werkzeug.routing import ValidationError

# The largest value every integer column of the schema holds on both databases: INTEGER
# is 32-bit in PostgreSQL (64-bit in SQLite), and the site runs on either.
DB_INT_MAX = 2**31 - 1
_MAX_DIGITS = len(str(DB_INT_MAX))  # 10
_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse(raw: str | None, lo: int = 0, hi: int = DB_INT_MAX) -> int | None:
    """The integer `raw` spells in ASCII digits when it lies in [lo, hi], else None.

    No sign, no spaces, no other digit systems; leading zeros are allowed. Bounds
    are clamped to the database's range.
    """
    if not isinstance(raw, str) or not raw or len(raw) > _MAX_DIGITS + 8:
        return None
    if not _ASCII_DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    if not max(lo, 0) <= value <= min(hi, DB_INT_MAX):
        return None
    return value


class IntegerConverter(_WerkzeugIntegerConverter):
    """`<int:name>` in a route: ASCII digits within the database's range.

    Anything else does not match the rule, so the request gets the site's 404
    page before any view or query runs. `min`, `max` and `fixed_digits` keep
    their Werkzeug meaning; `signed` is not supported (no route needs it).
    """

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        if signed:
            raise ValueError("signed ids are not supported")
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)

    def to_python(self, value: str) -> int:
        if parse(value) is None:
            raise ValidationError()
        return super().to_python(value)  # fixed_digits, min and max on plain ASCII digits
