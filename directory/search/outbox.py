"""The search outbox: "clinic X changed" rows written with the change itself."""

from __future__ import annotations

from directory.extensions import db
from directory.models import SearchOutbox


def mark_dirty(clinic_id: int) -> None:
    """Stage an outbox row in the current session; a rollback discards it with the change."""
    db.session.add(SearchOutbox(clinic_id=clinic_id))
