"""Start-up checks, SQLite settings and the migrated schema."""

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from directory import create_app
from directory.config import ConfigError
from directory.extensions import db
from tests.conftest import PG_URI, make_config, reset_schema


@pytest.mark.parametrize("key", [None, "", "dev", "short"])
def test_production_refuses_missing_default_or_short_secret_key(tmp_path, key):
    cfg = make_config(tmp_path, TESTING=False, SECRET_KEY=key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(cfg)


def test_production_refuses_debug(tmp_path):
    with pytest.raises(ConfigError, match="DEBUG"):
        create_app(make_config(tmp_path, TESTING=False, PRODUCTION=True, DEBUG=True))


def test_several_workers_refuse_memory_rate_limit_storage(tmp_path):
    cfg = make_config(
        tmp_path,
        TESTING=False,
        PRODUCTION=True,
        WORKERS=4,
        MAIL_BACKEND="smtp",
        RATELIMIT_STORAGE_URI="memory://",
    )
    with pytest.raises(ConfigError, match="rate-limit"):
        create_app(cfg)


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECTORY_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DIRECTORY_PAGE_SIZE", "7")
    monkeypatch.setenv("DIRECTORY_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    assert app.config["PAGE_SIZE"] == 7
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///" + str(tmp_path / "inst"))
    assert app.config["INDEX_DIR"] == str(tmp_path / "inst" / "index")


def test_instance_config_file_is_read(tmp_path, monkeypatch):
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text("SECRET_KEY = '" + "z" * 40 + "'\nPAGE_SIZE = 11\n")
    monkeypatch.setenv("DIRECTORY_INSTANCE_PATH", str(inst))
    monkeypatch.delenv("DIRECTORY_SECRET_KEY", raising=False)
    assert create_app().config["PAGE_SIZE"] == 11


@pytest.mark.skipif(PG_URI is not None, reason="SQLite pragmas apply to the SQLite leg")
def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(app):
    with app.app_context():
        conn = db.session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.skipif(PG_URI is not None, reason="SQLite locking")
def test_concurrent_read_then_write_transactions_lose_no_update(app):
    """docs/security.md: read-then-write under several writers must not lose updates."""
    from directory.models import Clinic
    from tests.factories import ClinicFactory

    with app.app_context():
        clinic_id = ClinicFactory(result_count=0).id
    errors = []

    def bump():
        try:
            with app.app_context():
                for _ in range(20):
                    c = db.session.get(Clinic, clinic_id)
                    c.result_count = c.result_count + 1
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.get(Clinic, clinic_id).result_count == 80


def test_migrations_build_the_schema_the_models_describe(tmp_path, worker_id):
    app = create_app(make_config(tmp_path, worker_id))
    with app.app_context():
        if PG_URI:
            reset_schema(app)
            db.drop_all()
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(db.metadata.tables)
            assert tables <= set(
                conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type='table'"
                        if not PG_URI
                        else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    )
                ).scalars()
            )
        db.engine.dispose()
    assert diff == []
