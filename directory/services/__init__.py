"""Use cases. Services stage changes (add, flush) and never commit; the edge
(a view or a CLI command) calls `commit()` once, which then drains the search
outbox into the index."""

from __future__ import annotations

from sqlalchemy import select

from directory.extensions import db


class ServiceError(Exception):
    """Base of the domain errors views turn into 4xx responses."""

    status_code = 400


class NotAllowed(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class InvalidState(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    status_code = 400


def commit() -> None:
    """Commit the request's unit of work, then bring the search index up to date.

    The drain never raises: a search failure must not turn a saved change into
    an error page (the outbox keeps the change for the next drain).
    """
    db.session.commit()
    from directory import search

    search.after_commit()


def newest_first(model, *where) -> list:
    """The rows of `model` that meet `where`, newest (created_at) first."""
    stmt = select(model).where(*where).order_by(model.created_at.desc())
    return list(db.session.execute(stmt).scalars())
