"""Small helpers shared by the blueprints' forms (no blueprint imports another)."""

from __future__ import annotations

from wtforms import SelectChoice
from wtforms.validators import ValidationError

from directory.services import accounts


def choices(pairs) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class NewPassword:
    """A WTForms validator applying the accounts service's password rule."""

    def __call__(self, form, field):
        problem = accounts.password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
