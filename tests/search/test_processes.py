"""Two web workers and a `flask search sync --loop` write and drain at once:
no acknowledged update is lost (real SQLite file, real index directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from directory import search
from directory.extensions import db
from directory.models import Clinic
from directory.search import indexer
from tests.conftest import PG_URI
from tests.factories import ClinicFactory
from tests.search.conftest import index_dir, rebuild

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

WORKER = r"""
import json, os, sys
from directory import create_app, search, services
from directory.extensions import db
from directory.models import Clinic

cfg = json.loads(os.environ["SEARCH_TEST_CONFIG"])
app = create_app(cfg)
me, rounds, ids = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
for n in range(rounds):
    cid = ids[(n + me) % len(ids)]
    word = f"zq{me}x{n}"
    with app.test_request_context("/manage", method="POST"):
        clinic = db.session.get(Clinic, cid)
        clinic.description = f"Studio {word}."
        search.mark_dirty(cid)
        services.commit()
        db.session.remove()
    print(json.dumps([cid, word]), flush=True)
"""


@pytest.mark.skipif(bool(PG_URI), reason="exercises SQLite file locking")
def test_two_workers_and_a_sync_loop_lose_no_update(app, tmp_path):
    with app.app_context():
        ids = [ClinicFactory(description="Studio.").id for _ in range(6)]
    rebuild(app)
    cfg = {
        k: v
        for k, v in app.config.items()
        if k
        in (
            "TESTING",
            "SECRET_KEY",
            "INSTANCE_PATH",
            "SQLALCHEMY_DATABASE_URI",
            "INDEX_DIR",
            "RATELIMIT_ENABLED",
            "TRUSTED_HOSTS",
        )
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORY_")}
    env["SEARCH_TEST_CONFIG"] = json.dumps(cfg)
    env.update(
        {
            "DIRECTORY_INSTANCE_PATH": cfg["INSTANCE_PATH"],
            "DIRECTORY_SQLALCHEMY_DATABASE_URI": cfg["SQLALCHEMY_DATABASE_URI"],
            "DIRECTORY_SECRET_KEY": cfg["SECRET_KEY"],
        }
    )
    sync = subprocess.Popen(
        [
            str(BIN / "flask"),
            "--app",
            "directory",
            "search",
            "sync",
            "--loop",
            "--interval",
            "0.02",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(w), "25", json.dumps(ids)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in (1, 2)
        ]
        acknowledged = []
        for w in workers:
            out, err = w.communicate(timeout=120)
            assert w.returncode == 0, err
            acknowledged += [json.loads(line) for line in out.splitlines()]
        assert len(acknowledged) == 50
        # The sync loop (or the workers' own drains) empties the outbox.
        deadline = time.time() + 10
        while time.time() < deadline:
            with app.app_context():
                if indexer.pending_count() == 0:
                    break
            time.sleep(0.05)
    finally:
        sync.terminate()
        sync.communicate(timeout=20)
    with app.app_context():
        assert indexer.pending_count() == 0
        assert indexer.check(index_dir(app)).ok
        snap = search.engine().s

        def indexed_with(word):  # exact term look-up, no typo tolerance
            return sorted(snap.cid[d] for d in snap.postings("text", word) & snap.live)

        current = {
            c.id: c.description.split()[1].rstrip(".") for c in db.session.query(Clinic).all()
        }
        for cid, word in current.items():
            assert indexed_with(word) == [cid], (cid, word)
        # Every acknowledged write reached the database, and superseded words
        # are gone from the index (documents are rebuilt from current rows).
        for cid, word in acknowledged:
            assert indexed_with(word) == ([cid] if current[cid] == word else []), (cid, word)
