"""Fixtures the page cache's tests share."""

from __future__ import annotations

import pytest

from directory import create_app
from directory.extensions import db
from tests.conftest import make_config
from tests.reviews_helpers import make_world


@pytest.fixture
def worlds(app, tmp_path, worker_id):
    """(visitor's worker, staff's worker, the world): both apps share everything."""
    world = make_world(app)
    other = create_app(make_config(tmp_path, worker_id))
    with app.app_context():
        from directory.search import indexer

        indexer.rebuild(app.config["INDEX_DIR"])
    yield app, other, world
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
