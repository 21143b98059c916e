"""The public pages' query strings: bad values get a 400 with a clear message."""

from __future__ import annotations

from flask import abort
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from directory import formkit, numbers, vocab
from directory.services.search import PRICE_BUCKETS, country_code

MAX_PAGE = 10_000
MAX_TEXT = 200


def int_arg(args: MultiDict, name: str, default: int | None, lo: int, hi: int) -> int | None:
    return formkit.int_arg(args, name, default, lo, hi)


def text_arg(args: MultiDict, name: str, limit: int = MAX_TEXT) -> str | None:
    raw = args.get(name, "")
    if len(raw) > limit:
        abort(400, f"“{name}” is too long (at most {limit} characters).")
    raw = raw.replace("\x00", "").strip()
    return raw or None


def choice_arg(args: MultiDict, name: str, choices) -> str | None:
    raw = args.get(name) or None
    if raw is not None and raw not in choices:
        abort(400, f"Unknown {name.replace('_', ' ')} “{raw[:40]}”.")
    return raw


def page_arg(args: MultiDict) -> int:
    return int_arg(args, "page", 1, 1, MAX_PAGE)


def result_filters(args: MultiDict) -> dict:
    return {
        "stage": choice_arg(args, "stage", vocab.STAGES),
        "skin_type": int_arg(args, "skin_type", None, 1, 6),
        "hair_colour": choice_arg(args, "hair_colour", vocab.HAIR_COLOURS),
        "goal": choice_arg(args, "goal", vocab.GOALS),
        "age": choice_arg(args, "age", vocab.AGE_LABELS),
        "healed_only": args.get("healed") in ("1", "on"),
    }


# --- /search ---------------------------------------------------------------

RADII = vocab.SEARCH_RADII
DEFAULT_RADIUS = 50
SEARCH_SORTS = vocab.SEARCH_SORTS
MAX_PLACE = 120
PRICE_CHOICES = PRICE_BUCKETS


def _clean(value):
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _max(name: str, limit: int) -> Length:
    return Length(max=limit, message=f"“{name}” is too long (at most {limit} characters).")


class SearchForm(FlaskForm):
    """The query string of /search (GET, no CSRF: it changes nothing).

    Validation only: what the words mean is the search package's business.
    """

    class Meta:
        csrf = False

    q = StringField("Words", filters=[_clean], validators=[Optional(), _max("q", MAX_TEXT)])
    place = StringField(
        "Near (town or city)", filters=[_clean], validators=[Optional(), _max("place", MAX_PLACE)]
    )
    radius = StringField("Within")
    service = StringField("Service")
    country = StringField("Country", filters=[_clean], validators=[Optional(), _max("country", 60)])
    city = StringField("City", filters=[_clean], validators=[Optional(), _max("city", 120)])
    max_price = StringField("Maximum price")
    women = StringField("Women's treatments")
    sort = StringField("Order by")
    page = StringField("Page")
    literal = StringField("Take my words literally")

    # The validated values, set by validate().
    country_code: str | None = None
    page_number: int = 1
    radius_km: int = DEFAULT_RADIUS
    max_price_usd: int | None = None

    def validate_radius(self, field):
        raw = (field.data or "").strip()
        value = numbers.parse(raw)
        if raw and value not in RADII:
            raise ValidationError("“radius” must be one of " + ", ".join(map(str, RADII)) + " km.")
        self.radius_km = value if raw else DEFAULT_RADIUS

    def validate_service(self, field):
        if field.data and field.data not in vocab.SERVICES:
            raise ValidationError(f"Unknown service “{field.data[:40]}”.")

    def validate_max_price(self, field):
        raw = (field.data or "").strip()
        value = numbers.parse(raw)
        if raw and value not in PRICE_CHOICES:
            raise ValidationError(
                "“max_price” must be one of " + ", ".join(map(str, PRICE_CHOICES)) + "."
            )
        self.max_price_usd = value if raw else None

    def validate_women(self, field):
        if (field.data or "") not in ("", "0", "1", "on"):
            raise ValidationError("“women” must be 1 or left out.")

    def validate_literal(self, field):
        if (field.data or "") not in ("", "0", "1"):
            raise ValidationError("“literal” must be 1 or left out.")

    def validate_sort(self, field):
        field.data = field.data or "quality"
        if field.data not in SEARCH_SORTS:
            raise ValidationError(
                f"Unknown sort “{(field.data or '')[:40]}”: results can be ordered by quality, "
                "number of testimonials, distance, best match or cases like yours (never by "
                "price)."
            )

    def validate_country(self, field):
        if field.data:
            self.country_code = country_code(field.data)
            if self.country_code is None:
                raise ValidationError(
                    f"We do not know the country “{field.data[:60]}”: type its name "
                    "(e.g. United Kingdom) or its two-letter code (GB)."
                )

    def validate_page(self, field):
        raw = (field.data or "").strip()
        if not raw:
            self.page_number = 1
            return
        value = numbers.parse(raw, 1, MAX_PAGE)  # ASCII digits only (directory/numbers.py)
        if value is None:
            raise ValidationError(f"“page” must be a whole number between 1 and {MAX_PAGE}.")
        self.page_number = value

    @property
    def wants_women(self) -> bool:
        return self.women.data in ("1", "on")

    @property
    def is_literal(self) -> bool:
        return self.literal.data == "1"

    @property
    def errors_text(self) -> list[str]:
        return [msg for messages in self.errors.values() for msg in messages]


def search_form(args: MultiDict) -> SearchForm:
    """The /search form bound to the query string, validated."""
    form = SearchForm(formdata=args)
    form.validate()
    return form
