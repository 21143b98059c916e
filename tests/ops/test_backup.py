"""`flask backup create/check/restore`: a backup restores completely, and the
check notices a damaged one."""

from __future__ import annotations

import tarfile
from pathlib import Path

from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic
from tests.factories import ClinicFactory


def test_backup_check_and_restore_round_trip(app, runner, tmp_path):
    media = Path(app.config["MEDIA_DIR"])
    (media / "photos").mkdir(parents=True)
    (media / "photos" / "a.jpg").write_bytes(b"\xff\xd8photo-bytes")
    with app.app_context():
        for _ in range(3):
            ClinicFactory()
        db.session.commit()
    folder = tmp_path / "backup-1"
    result = runner.invoke(args=["backup", "create", str(folder)])
    assert result.exit_code == 0, result.output
    assert "1 media files" in result.output
    result = runner.invoke(args=["backup", "check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "restores completely" in result.output

    # Changes after the backup are undone by the restore.
    with app.app_context():
        ClinicFactory()
        db.session.commit()
    (media / "photos" / "a.jpg").write_bytes(b"overwritten")
    result = runner.invoke(args=["backup", "restore", "--yes", str(folder)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.session.remove()
        assert db.session.execute(select(func.count(Clinic.id))).scalar() == 3
    assert (media / "photos" / "a.jpg").read_bytes() == b"\xff\xd8photo-bytes"


def test_backup_check_fails_on_a_damaged_backup(app, runner, tmp_path):
    media = Path(app.config["MEDIA_DIR"])
    media.mkdir(parents=True, exist_ok=True)
    (media / "b.jpg").write_bytes(b"original")
    folder = tmp_path / "backup-2"
    assert runner.invoke(args=["backup", "create", str(folder)]).exit_code == 0
    # Replace the archive with one whose file differs.
    other = tmp_path / "b.jpg"
    other.write_bytes(b"tampered")
    with tarfile.open(folder / "media.tar", "w") as tar:
        tar.add(other, arcname="b.jpg")
    result = runner.invoke(args=["backup", "check", str(folder)])
    assert result.exit_code == 1
    assert "media file differs: b.jpg" in result.output
