"""Small helpers shared by the blueprints' forms (no blueprint imports another)."""

from __future__ import annotations

from wtforms import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
