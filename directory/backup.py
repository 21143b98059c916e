"""Backups: the database plus the media folder, and a check that a backup restores.

    flask --app directory backup create /var/backups/directory/2026-12-01
    flask --app directory backup check  /var/backups/directory/2026-12-01
    flask --app directory backup restore /var/backups/directory/2026-12-01

A backup folder holds:

- database.dump (PostgreSQL: `pg_dump --format=custom`) or database.sqlite3
  (SQLite: a consistent online copy through SQLite's backup API);
- media.tar (the media folder: photos; the search index is rebuilt, not saved);
- manifest.json: row counts per table and a SHA-256 per media file.

`check` restores the database into a scratch database (a temporary SQLite file,
or a temporary PostgreSQL database), compares every table's row count with the
manifest, and checks every media file in the archive against its hash. It
exits non-zero on any difference. `restore` replaces the configured database
and media folder (stop the web and worker first), then rebuild the index:
`flask search rebuild`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from directory.extensions import db


class BackupError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _run(tool: str, *args: str) -> None:
    """Run a PostgreSQL client tool (pg_dump, pg_restore) found on PATH."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    subprocess.run([path, *args], check=True)  # noqa: S603 - fixed tool, our own arguments


def _pg_args(uri: str) -> tuple[str, list[str]]:
    """A libpq URI and, when the URI pins a search_path, the schema option for pg_dump."""
    url = make_url(uri)
    options = url.query.get("options", "")
    schema = []
    if "search_path=" in options:
        schema = ["--schema", options.split("search_path=", 1)[1].split()[0]]
    plain = url.set(drivername="postgresql")
    return plain.render_as_string(hide_password=False), schema


def _counts(engine) -> dict[str, int]:
    names = sorted(t for t in inspect(engine).get_table_names() if t != "alembic_version")
    out = {}
    with engine.connect() as conn:
        for name in names:
            table = db.metadata.tables.get(name)
            if table is None:
                continue
            out[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return out


def create(folder: str, uri: str, media_dir: str) -> dict:
    dest = Path(folder)
    dest.mkdir(parents=True, exist_ok=False)
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        src = sqlite3.connect(url.database)
        out = sqlite3.connect(dest / "database.sqlite3")
        with out:
            src.backup(out)
        src.close()
        out.close()
        engine = create_engine("sqlite:///" + str(dest / "database.sqlite3"))
        kind = "sqlite"
    else:
        libpq, schema = _pg_args(uri)
        _run(
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--file",
            str(dest / "database.dump"),
            *schema,
            "--dbname",
            libpq,
        )
        engine = create_engine(uri)
        kind = "postgresql"
    try:
        counts = _counts(engine)
    finally:
        engine.dispose()
    files = {}
    media = Path(media_dir)
    with tarfile.open(dest / "media.tar", "w") as tar:
        if media.is_dir():
            for path in sorted(p for p in media.rglob("*") if p.is_file()):
                rel = path.relative_to(media).as_posix()
                files[rel] = _sha256(path)
                tar.add(path, arcname=rel)
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "schema": _pg_args(uri)[1][1:] if kind == "postgresql" else [],
        "tables": counts,
        "media": files,
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def _manifest(folder: str) -> dict:
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise BackupError(f"{folder} has no manifest.json: not a backup folder")
    return json.loads(path.read_text())


def _check_media(folder: str, manifest: dict, into: str | None = None) -> list[str]:
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        target = into or tmp
        with tarfile.open(Path(folder) / "media.tar") as tar:
            tar.extractall(target, filter="data")
        for rel, digest in manifest["media"].items():
            path = Path(target) / rel
            if not path.is_file():
                problems.append(f"media file missing: {rel}")
            elif _sha256(path) != digest:
                problems.append(f"media file differs: {rel}")
    return problems


def check(folder: str, scratch_pg_uri: str | None = None) -> list[str]:
    """Restore into scratch space and compare with the manifest; returns the problems."""
    manifest = _manifest(folder)
    problems = []
    if manifest["database"] == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "restored.sqlite3"
            shutil.copyfile(Path(folder) / "database.sqlite3", copy)
            engine = create_engine("sqlite:///" + str(copy))
            try:
                ok = engine.connect().exec_driver_sql("PRAGMA integrity_check").scalar()
                if ok != "ok":
                    problems.append(f"SQLite integrity check: {ok}")
                counts = _counts(engine)
            finally:
                engine.dispose()
    else:
        if not scratch_pg_uri:
            raise BackupError("checking a PostgreSQL backup needs the server's URI")
        base = make_url(scratch_pg_uri).set(query={})
        scratch = f"restorecheck_{os.getpid()}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        try:
            target = base.set(database=scratch)
            libpq = target.set(drivername="postgresql").render_as_string(hide_password=False)
            _run(
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                libpq,
                str(Path(folder) / "database.dump"),
            )
            if manifest.get("schema"):
                target = target.update_query_dict(
                    {"options": f"-csearch_path={manifest['schema'][0]}"}
                )
            engine = create_engine(target)
            try:
                counts = _counts(engine)
            finally:
                engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            admin.dispose()
    for table, n in manifest["tables"].items():
        if counts.get(table) != n:
            problems.append(f"table {table}: {counts.get(table)} rows restored, {n} backed up")
    problems += _check_media(folder, manifest)
    return problems


def restore(folder: str, uri: str, media_dir: str) -> None:
    """Replace the configured database and media folder with the backup's."""
    manifest = _manifest(folder)
    url = make_url(uri)
    if manifest["database"] == "sqlite":
        if url.get_backend_name() != "sqlite":
            raise BackupError("a SQLite backup restores into a SQLite database only")
        target = Path(url.database)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(target) + suffix)
        tmp = target.with_suffix(".restoring")
        shutil.copyfile(Path(folder) / "database.sqlite3", tmp)
        os.replace(tmp, target)
    else:
        libpq, _ = _pg_args(uri)
        _run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            libpq,
            str(Path(folder) / "database.dump"),
        )
    media = Path(media_dir)
    aside = media.with_name(media.name + ".before-restore")
    if media.exists():
        shutil.rmtree(aside, ignore_errors=True)
        media.rename(aside)
    media.mkdir(parents=True)
    problems = _check_media(folder, manifest, into=str(media))
    if problems:
        raise BackupError("; ".join(problems))
    shutil.rmtree(aside, ignore_errors=True)
