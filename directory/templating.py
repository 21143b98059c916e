"""Jinja globals and filters shared by every template."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from datetime import date, datetime
from types import BuiltinFunctionType, FunctionType, MethodType, MethodWrapperType
from urllib.parse import urlencode

from flask import Flask, g, get_template_attribute, request, url_for
from jinja2.runtime import Context, Macro

from directory import vocab
from directory.services.pagedata import ClinicRecord, Record, ReviewRecord

# Callables that never ask for the template context: a macro, a builtin (dict.get,
# str.format). Functions and methods ask only through their jinja_pass_arg mark.
_NEVER_PASS = frozenset({Macro, BuiltinFunctionType, MethodWrapperType})
_MAYBE_PASS = frozenset({FunctionType, MethodType})


class CallContext(Context):
    """Jinja's context with a shorter path for the calls a page makes most (each
    url_for, macro, dict.get): the same rules as Context.call, which tries three
    attribute look-ups on every callable before calling it."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        kind = type(__obj)
        if kind in _NEVER_PASS or (
            kind in _MAYBE_PASS and getattr(__obj, "jinja_pass_arg", None) is None
        ):
            if kwargs:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        return super().call(__obj, *args, **kwargs)


_ATOMS = frozenset({str, int, float, bool, type(None), date, datetime})


def frozen(value):
    """What a macro can read from a record, as a hashable key: every field, with
    nested records and lists of them frozen the same way (a dict stays a dict, so
    the key does not hash and the memo renders as is)."""
    kind = type(value)
    if kind is list or kind is tuple:
        return tuple(map(frozen, value))
    if isinstance(value, Record):
        atoms = _ATOMS
        fields = vars(value).items()
        return (kind, tuple([(k, v if type(v) in atoms else frozen(v)) for k, v in fields]))
    return value


class MacroMemo:
    """A macro's HTML, rendered once per content (per worker): the clinic card and
    the public testimonial card are pure functions of their record and arguments,
    and the same cards are rendered again and again (search and home; a clinic's
    testimonials). The key is what the macro can read (every field of the record and
    of the records in it, the arguments, the script root its links start with), so
    a changed record is a new key: correct by construction, with nothing to
    invalidate. Only for pagedata's records of `record_type`, which hold every field
    they have (an ORM object may load more behind the key); anything else, or a
    record with something unhashable in it, is rendered as is."""

    def __init__(self, macro: str, record_type: type, size: int = 4096):
        self.macro, self.record_type, self.size = macro, record_type, size
        self._html: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, record, **args):
        if type(record) is not self.record_type:
            return self._render(record, args)
        key = (frozen(record), tuple(args.items()), request.script_root)
        try:
            with self._lock:
                html = self._html.get(key)  # hashes the key once
                if html is not None:
                    self._html.move_to_end(key)
                    return html
        except TypeError:  # something unhashable in it
            return self._render(record, args)
        html = self._render(record, args)
        with self._lock:
            self._html[key] = html
            if len(self._html) > self.size:
                self._html.popitem(last=False)
        return html

    def _render(self, record, args: dict):
        return get_template_attribute("_macros/ui.html", self.macro)(record, **args)


def register(app: Flask) -> None:
    app.jinja_env.context_class = CallContext

    def page_url(page: int) -> str:
        args = request.args.to_dict()
        args["page"] = page
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def canonical_url() -> str:
        """This page's one address: the site's canonical origin, the path, and the
        query arguments that change what is shown (sorted; no empty values, no
        `page=1`, no tracking tags), so ?page=1 and its page are one page."""
        base = app.config["CANONICAL_URL"].rstrip("/")
        args = sorted(
            (k, v)
            for k, v in request.args.items(multi=True)
            if v != "" and not k.startswith("utm_") and not (k == "page" and v == "1")
        )
        return base + request.path + ("?" + urlencode(args) if args else "")

    def absolute_url(path: str) -> str:
        return app.config["CANONICAL_URL"].rstrip("/") + path

    # Bootstrap's CSS trimmed to the classes the site uses is generated, not kept in
    # the repository (`make` runs scripts/trim_bootstrap.py); without it, the full file
    # Bootstrap-Flask serves.
    trimmed = os.path.join(app.static_folder or "", "css", "bootstrap.min.css")
    app.jinja_env.globals.update(
        bootstrap_css_trimmed=os.path.exists(trimmed),
        canonical_url=canonical_url,
        clinic_card=MacroMemo("clinic_card", ClinicRecord),
        # A testimonial with its report link, as an anonymous visitor sees it.
        public_review_card=MacroMemo("public_review_card", ReviewRecord),
        absolute_url=absolute_url,
        csp_nonce=lambda: getattr(g, "csp_nonce", ""),
        page_url=page_url,
        vocab=vocab,
    )
    app.jinja_env.filters.update(
        score=format_score,
        price_range=format_price_range,
        month=format_month,
        day=format_day,
        stars=stars,
    )


def format_score(value: float | None) -> str:
    return "not yet rated" if value is None else f"{value:.2f}"


def format_price_range(clinic) -> str:
    lo, hi, cur = clinic.price_min, clinic.price_max, clinic.currency or ""
    if lo is None and hi is None:
        return "Price on request"
    if lo is not None and hi is not None and lo != hi:
        return f"{cur} {lo:,}–{hi:,}"
    return f"{cur} {(lo if lo is not None else hi):,}"


def format_month(value: date | datetime | None) -> str:
    return "" if value is None else value.strftime("%B %Y")


def format_day(value: date | datetime | None) -> str:
    return "" if value is None else value.strftime("%-d %B %Y")


def stars(value: float | int | None) -> str:
    """A text rendering of a 1-5 value (the number itself is always shown beside it)."""
    if value is None:
        return ""
    full = int(round(float(value)))
    return "★" * full + "☆" * (5 - full)
