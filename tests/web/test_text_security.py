"""Single-line fields refuse control characters; every form number is parsed by the
one parsing layer. The outside audit: display names accepted CR/LF."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import wtforms
from flask_wtf import FlaskForm
from sqlalchemy import func, select

import directory
from directory.extensions import db
from directory.formkit import IntegerField, SingleLine, control_character
from directory.models import Clinic, User
from tests.conftest import csrf_from, login
from tests.factories import UserFactory

MULTI_LINE = (wtforms.TextAreaField,)
NOT_TEXT = (wtforms.PasswordField, wtforms.HiddenField)
HOSTILE_TEXT = [
    "Evil\r\nBcc: victim@example.com",
    "line\nbreak",
    "carriage\rreturn",
    "tab\there",
    "nul\x00byte",
    "escape\x1b[31mred",
    "delete\x7f",
    "c1\x85next line",
    "separator\u2028line",
    "paragraph\u2029sep",
    "\u202egnp.exe",  # right-to-left override
    "isolate\u2066x\u2069",
]


def all_forms() -> list[type]:
    for mod in pkgutil.walk_packages(directory.__path__, "directory."):
        if ".migrations" in mod.name:
            continue
        importlib.import_module(mod.name)
    found, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("directory."):
            found.append(cls)
    return found


def unbound_fields(cls):
    for name in dir(cls):
        value = getattr(cls, name, None)
        if hasattr(value, "field_class"):
            yield name, value


def test_every_single_line_field_of_every_form_refuses_control_characters():
    """Every form that is posted (stored text). GET forms without CSRF (the search
    form) read a query string, clean it with their own filters and store nothing."""
    checked, missing = [], []
    for cls in all_forms():
        if not getattr(cls.Meta, "csrf", True):
            continue
        for name, unbound in unbound_fields(cls):
            fc = unbound.field_class
            if not issubclass(fc, wtforms.StringField) or issubclass(fc, MULTI_LINE + NOT_TEXT):
                continue
            validators = unbound.kwargs.get("validators") or []
            label = f"{cls.__module__}.{cls.__name__}.{name}"
            checked.append(label)
            if not any(isinstance(v, SingleLine) for v in validators):
                missing.append(label)
    print(f"single-line fields checked: {len(checked)}, without the validator: {len(missing)}")
    assert missing == []
    assert len(checked) >= 20


def test_every_number_field_of_every_form_uses_the_parsing_layer():
    numbers_seen, bare = 0, []
    for cls in all_forms():
        for name, unbound in unbound_fields(cls):
            if issubclass(unbound.field_class, wtforms.IntegerField):
                numbers_seen += 1
                if not issubclass(unbound.field_class, IntegerField):
                    bare.append(f"{cls.__name__}.{name}")
            coerce = unbound.kwargs.get("coerce")
            if coerce is int:
                bare.append(f"{cls.__name__}.{name} (coerce=int)")
    print(f"form number fields: {numbers_seen}, parsed outside the layer: {len(bare)}")
    assert bare == []


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_the_rule_finds_each_control_character(text):
    assert control_character(text) is not None
    assert control_character("Ünïcödé names, emoji 🙂 and punctuation — fine") is None


@pytest.mark.parametrize("name", HOSTILE_TEXT)
def test_a_display_name_with_a_control_character_is_refused(app, name):
    client = app.test_client()
    resp = client.post(
        "/auth/register",
        data={
            "csrf_token": csrf_from(client, "/auth/register"),
            "email": "ctl@example.com",
            "display_name": name,
            "password": "a perfectly long passphrase",
        },
    )
    assert resp.status_code == 400
    assert "single line of text without control characters" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count(User.id))).scalar() == 0


def test_a_clinic_name_or_city_with_a_line_break_is_refused(app):
    with app.app_context():
        user = UserFactory()
        db.session.refresh(user)
        db.session.expunge(user)
    client = app.test_client()
    login(client, user)
    token = csrf_from(client, "/manage/clinics/new")
    base = {
        "csrf_token": token,
        "name": "Straight Ink",
        "city": "London",
        "country": "GB",
        "services": ["full_scalp"],
        "currency": "GBP",
        "works_there": "y",
    }
    for field in ("name", "city", "phone", "address"):
        resp = client.post("/manage/clinics/new", data={**base, field: "Line one\r\nLine two"})
        assert resp.status_code == 400, field
        assert "control characters" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count(Clinic.id))).scalar() == 0
    # Without the line break the same form goes through.
    assert client.post("/manage/clinics/new", data=base).status_code == 302
