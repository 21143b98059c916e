"""Parsing of the public pages' query strings: bad values get a 400 with a clear message."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from werkzeug.datastructures import MultiDict

from directory import formkit, vocab
from directory.services.clinics import ListFilters
from directory.services.search import PRICE_BUCKETS

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


def list_filters(args: MultiDict) -> ListFilters:
    country = text_arg(args, "country", 2)
    if country and not (len(country) == 2 and country.isalpha()):
        abort(400, "“country” must be a two-letter country code.")
    return ListFilters(
        city=text_arg(args, "city", 120),
        country=country.upper() if country else None,
        service=choice_arg(args, "service", vocab.SERVICES),
        text=text_arg(args, "q"),
    )


def result_filters(args: MultiDict) -> dict:
    return {
        "stage": choice_arg(args, "stage", vocab.STAGES),
        "skin_type": int_arg(args, "skin_type", None, 1, 6),
        "hair_colour": choice_arg(args, "hair_colour", vocab.HAIR_COLOURS),
        "goal": choice_arg(args, "goal", vocab.GOALS),
        "age": choice_arg(args, "age", vocab.AGE_LABELS),
    }


# --- /search ---------------------------------------------------------------

RADII = (10, 25, 50, 100, 250, 500)
DEFAULT_RADIUS = 50
SEARCH_SORTS = {
    "quality": "Quality of results",
    "reviews": "Number of testimonials",
    "distance": "Distance",
    "relevance": "Best match for your words",
}
MAX_PLACE = 120
PRICE_CHOICES = PRICE_BUCKETS


@dataclass(frozen=True)
class SearchArgs:
    """The validated query string of /search (the place still as typed)."""

    text: str | None = None
    place: str | None = None
    radius: int = DEFAULT_RADIUS
    service: str | None = None
    country: str | None = None
    city: str | None = None
    max_price: int | None = None
    women: bool = False
    sort: str = "quality"
    page: int = 1


def search_args(args: MultiDict) -> SearchArgs:
    country = text_arg(args, "country", 2)
    if country and not (len(country) == 2 and country.isalpha()):
        abort(400, "“country” must be a two-letter country code.")
    place = text_arg(args, "place", MAX_PLACE)
    radius = int_arg(args, "radius", DEFAULT_RADIUS, 1, 500)
    if radius not in RADII:
        abort(400, "“radius” must be one of " + ", ".join(map(str, RADII)) + " km.")
    max_price = int_arg(args, "max_price", None, 1, 1_000_000)
    if max_price is not None and max_price not in PRICE_CHOICES:
        abort(400, "“max_price” must be one of " + ", ".join(map(str, PRICE_CHOICES)) + ".")
    women = args.get("women", "")
    if women not in ("", "0", "1", "on"):
        abort(400, "“women” must be 1 or left out.")
    raw_sort = args.get("sort") or "quality"
    if raw_sort not in SEARCH_SORTS:
        abort(
            400,
            f"Unknown sort “{raw_sort[:40]}”: results can be ordered by quality, number "
            "of testimonials, distance or best match (never by price).",
        )
    if raw_sort == "distance" and not place:
        abort(400, "Sorting by distance needs a place.")
    return SearchArgs(
        text=text_arg(args, "q"),
        place=place,
        radius=radius,
        service=choice_arg(args, "service", vocab.SERVICES),
        country=country.upper() if country else None,
        city=text_arg(args, "city", 120),
        max_price=max_price,
        women=women in ("1", "on"),
        sort=raw_sort,
        page=page_arg(args),
    )
