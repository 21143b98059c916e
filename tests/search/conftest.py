"""Helpers for the search tests: build the index from the database and query it."""

from __future__ import annotations

import re

import pytest

from directory.search import indexer


def index_dir(app) -> str:
    return app.config["INDEX_DIR"]


def rebuild(app) -> int:
    with app.app_context():
        return indexer.rebuild(index_dir(app))


def card_names(html: str) -> list[str]:
    return re.findall(r'<h2 class="h5 card-title mb-1"><a href="/clinics/[^"]+">([^<]+)</a>', html)


@pytest.fixture
def indexed(app):
    """An app whose (empty) index exists, so drains apply changes at once."""
    rebuild(app)
    return app
