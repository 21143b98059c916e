"""Validation of submitted values, shared by every service that takes free input,
and the clinic profile's fields as a table: one row per field, with its label
and how it is cleaned. Raises Invalid with a message meant for the user."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from directory.services import Invalid
from directory.vocab import CURRENCIES, SERVICES


def text(value, limit: int, label: str, required: bool = False) -> str | None:
    """Trimmed text without NULs and with one kind of line break; None when empty."""
    value = value if isinstance(value, str) else ("" if value is None else str(value))
    # Browsers send textareas with CRLF; store one kind of line break.
    value = value.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not value:
        raise Invalid(f"{label} is required.")
    if len(value) > limit:
        raise Invalid(f"{label} is too long (at most {limit} characters).")
    return value or None


def whole(value, lo: int, hi: int, label: str) -> int | None:
    return _number(value, int, lo, hi, f"{label} must be a whole number.", label)


def decimal(value, lo: float, hi: float, label: str) -> float | None:
    return _number(value, float, lo, hi, f"{label} must be a number.", label)


def _number(value, kind, lo, hi, not_a_number: str, label: str):
    """`value` read as `kind` within [lo, hi]; None when empty, else Invalid."""
    if value in (None, ""):
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise Invalid(not_a_number) from None
    if not lo <= number <= hi:
        raise Invalid(f"{label} must be between {lo} and {hi}.")
    return number


def website_ok(url: str) -> bool:
    """Absolute http(s) URL with a host and nothing that could be a script."""
    if not url or len(url) > 300 or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "." in parts.hostname


def website_domain(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host or None


def email_matches_website(email: str | None, website: str | None) -> bool:
    """True when the e-mail's domain is the website's domain or a subdomain of it."""
    domain = website_domain(website)
    if not email or "@" not in email or not domain:
        return False
    mail_domain = email.rsplit("@", 1)[1].strip().lower()
    return mail_domain == domain or mail_domain.endswith("." + domain)


# --- the clinic profile, one row per field ----------------------------------------------


def _email(value, label):
    email = text(value, 254, label)
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise Invalid("Enter a valid e-mail address.")
    return email.lower() if email else None


def _phone(value, label):
    phone = text(value, 40, label)
    if phone and not re.fullmatch(r"[0-9+()./ -]{5,40}", phone):
        raise Invalid("A phone number may hold digits, spaces and + ( ) - . / only.")
    return phone


def _website(value, label):
    website = text(value, 300, label)
    if website and not website_ok(website):
        raise Invalid("The website must be a full address starting with http:// or https://.")
    return website


def _country(value, label):
    country = (text(value, 2, label, required=True) or "").upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise Invalid("Country must be a two-letter ISO code such as GB or US.")
    return country


def _services(value, label):
    services = list(dict.fromkeys(value or []))
    if any(s not in SERVICES for s in services):
        raise Invalid("Unknown service.")
    return [s for s in SERVICES if s in services]


def _currency(value, label):
    currency = (value or "").upper()
    if currency not in CURRENCIES:
        raise Invalid("Choose a currency from the list.")
    return currency


def _languages(value, label):
    items = value if isinstance(value, list) else re.split(r"[,;\n]", value or "")
    langs = list(dict.fromkeys(x.strip() for x in items if x and x.strip()))
    if len(langs) > 20 or any(len(x) > 40 for x in langs):
        raise Invalid("List at most 20 languages of at most 40 characters each.")
    return langs


def _text(limit: int, required: bool = False, empty=None):
    def clean(value, label):
        return text(value, limit, label, required=required) or empty

    return clean


def _whole(lo: int, hi: int | Callable[[], int]):
    def clean(value, label):
        return whole(value, lo, hi() if callable(hi) else hi, label)

    return clean


def _decimal(lo: float, hi: float):
    def clean(value, label):
        return decimal(value, lo, hi, label)

    return clean


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    clean: Callable[[object, str], object]


# The profile fields an owner may change, in form order. Anything else posted
# (status, owner, scores, counts) is ignored.
PROFILE: tuple[Field, ...] = (
    Field("name", "Name", _text(160, required=True)),
    Field("description", "Description", _text(5000, empty="")),
    Field("email", "E-mail", _email),
    Field("phone", "Phone", _phone),
    Field("website", "Website", _website),
    Field("address", "Address", _text(300)),
    Field("postal_code", "Postal code", _text(20)),
    Field("city", "City", _text(120, required=True)),
    Field("region", "Region", _text(120)),
    Field("country", "Country", _country),
    Field("latitude", "Latitude", _decimal(-90, 90)),
    Field("longitude", "Longitude", _decimal(-180, 180)),
    Field("services", "Services", _services),
    Field("price_min", "Lowest price", _whole(0, 10_000_000)),
    Field("price_max", "Highest price", _whole(0, 10_000_000)),
    Field("currency", "Currency", _currency),
    Field("languages", "Languages", _languages),
    Field("year_founded", "Year founded", _whole(1950, lambda: datetime.now(UTC).year)),
)
PROFILE_FIELDS = tuple(f.name for f in PROFILE)


def clean_profile(data: dict, *, current=None) -> dict:
    """Validate the profile fields present in `data`; returns them normalised."""
    out = {f.name: f.clean(data[f.name], f.label) for f in PROFILE if f.name in data}
    lo = out.get("price_min", current.price_min if current else None)
    hi = out.get("price_max", current.price_max if current else None)
    if lo is not None and hi is not None and lo > hi:
        raise Invalid("The lowest price cannot be above the highest price.")
    return out
