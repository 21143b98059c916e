"""Small helpers shared by the blueprints' forms and query strings (no blueprint
imports another): choices, the password rule, e-mail fields, running a submitted
form's service call, numbers from the query string, and the single-line text rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import abort
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, PasswordField, SelectChoice, StringField, TextAreaField
from wtforms import IntegerField as _WTFormsIntegerField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from directory import numbers
from directory.extensions import db
from directory.services import Invalid, ServiceError, accounts


def choices(pairs) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class NewPassword:
    """A WTForms validator applying the accounts service's password rule."""

    def __call__(self, form, field):
        problem = accounts.password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


# --- optional text ------------------------------------------------------------------------


def optional_line(label: str, most: int, **kwargs) -> StringField:
    """An optional one-line text of at most `most` characters."""
    return StringField(label, validators=[SingleLine(), Optional(), Length(max=most)], **kwargs)


def optional_text(label: str, most: int, **kwargs) -> TextAreaField:
    """An optional text of any number of lines, at most `most` characters."""
    return TextAreaField(label, validators=[Optional(), Length(max=most)], **kwargs)


# --- e-mail addresses and passwords --------------------------------------------------------


def strip(value):
    """A WTForms filter: surrounding white space off a text value."""
    return value.strip() if isinstance(value, str) else value


def email_field(label: str, *, new: bool = False) -> EmailField:
    """An e-mail address on one line, at most 254 characters; a `new` one (signing up,
    changing it) must also look like an address (the domain is not looked up)."""
    validators = [SingleLine(), DataRequired(), Length(max=254)]
    if new:
        validators.append(Email(check_deliverability=False))
    return EmailField(label, filters=[strip], validators=validators)


def password_field(label: str, *, new: bool = False) -> PasswordField:
    """The user's password (at most 1,024 characters), or a `new` one, which the
    accounts service's rule checks (NewPassword)."""
    rule = NewPassword() if new else Length(max=1024)
    return PasswordField(label, validators=[DataRequired(), rule])


# --- a submitted form's service call ----------------------------------------------------


class Attempt(NamedTuple):
    """What became of a form (see `attempt`)."""

    done: bool  # it passed and the service accepted it: commit, flash, redirect
    result: Any = None  # what the service call returned
    status: int = 200  # otherwise, the status to show the form again with


def attempt(
    form,
    action: Callable[[], Any],
    refused: tuple[type[ServiceError], ...] = (Invalid,),
    *,
    field_errors: dict | None = None,
) -> Attempt:
    """Validate `form` and, when it passes, run the service call `action()`.

    A submitted form that does not validate is shown again with a 400. A `refused`
    error rolls back whatever was staged and is shown above the form with its own
    status; `field_errors` maps error types to the field they are about, shown under
    it with a 400. Any other ServiceError goes on to the app's handler (rolled back,
    an error page with its status).
    """
    if not form.validate_on_submit():
        return Attempt(False, status=400 if form.is_submitted() else 200)
    try:
        return Attempt(True, action())
    except ServiceError as exc:
        about = next(
            (f for kinds, f in (field_errors or {}).items() if isinstance(exc, kinds)), None
        )
        if about is None and not isinstance(exc, refused):
            raise
        db.session.rollback()
        if about is not None:
            about.errors.append(str(exc))
            return Attempt(False, status=400)
        form.form_errors.append(str(exc))
        return Attempt(False, status=exc.status_code)


# --- numbers --------------------------------------------------------------------------


def int_arg(
    args: MultiDict,
    name: str,
    default: int | None = None,
    lo: int = 0,
    hi: int = numbers.DB_INT_MAX,
) -> int | None:
    """A whole number from the query string (ASCII digits within [lo, hi]).

    Missing or empty gives `default`; anything else that is not such a number ends
    the request with a 400 that names the parameter. Every view that reads a
    number from the query string uses this (directory/numbers.py says why).
    """
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    value = numbers.parse(raw, lo, hi)
    if value is None:
        abort(400, f"“{name}” must be a whole number between {lo} and {hi}.")
    return value


def to_int(value) -> int | None:
    """A `coerce` for select and radio fields: ASCII digits only (ValueError otherwise)."""
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    number = numbers.parse(str(value))
    if number is None:
        raise ValueError("not a whole number")
    return number


class IntegerField(_WTFormsIntegerField):
    """WTForms' IntegerField reading ASCII digits only (an optional leading minus),
    within the database's range; other input gets WTForms' own message."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip() if isinstance(valuelist[0], str) else valuelist[0]
        if raw in (None, ""):
            self.data = None
            return
        negative = isinstance(raw, str) and raw.startswith("-")
        number = numbers.parse(raw[1:] if negative else raw)
        if number is None:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        self.data = -number if negative else number


# --- single-line text -------------------------------------------------------------------

# C0 and C1 control characters (CR, LF, TAB, NUL, ESC, DEL, ...), Unicode line and
# paragraph separators, and the bidirectional overrides and isolates that make a name
# display differently from how it is stored.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def control_character(text: str | None) -> str | None:
    """The first control character in `text` as a readable code point, or None."""
    m = _CONTROL.search(text or "")
    return f"U+{ord(m.group()):04X}" if m else None


class SingleLine:
    """A WTForms validator for one-line fields (names, titles, e-mail addresses,
    phone numbers): no line breaks, tabs or other control characters."""

    message = "Use a single line of text without control characters (found {code})."

    def __call__(self, form, field):
        if isinstance(field.data, str):
            code = control_character(field.data)
            if code:
                raise ValidationError(self.message.format(code=code))
