"""Parsing of the public pages' query strings: bad values get a 400 with a clear message."""

from __future__ import annotations

from flask import abort
from werkzeug.datastructures import MultiDict

from directory import vocab
from directory.services.clinics import ListFilters

MAX_PAGE = 10_000
MAX_TEXT = 200


def int_arg(args: MultiDict, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if len(raw) > 12 or not raw.strip().lstrip("-").isdigit():
        abort(400, f"“{name}” must be a whole number.")
    value = int(raw)
    if not lo <= value <= hi:
        abort(400, f"“{name}” must be between {lo} and {hi}.")
    return value


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
