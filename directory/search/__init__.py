"""The only package that touches Whoosh (see STYLE.md, "Search index in step")."""

from __future__ import annotations

from .outbox import mark_dirty

__all__ = ["after_commit", "mark_dirty"]


def after_commit() -> None:
    """Called by services.commit(); drains the outbox when the index is in use."""
    # The Whoosh index arrives with the search issue; until then the SQL list
    # serves /search and the outbox simply accumulates.
    return None
