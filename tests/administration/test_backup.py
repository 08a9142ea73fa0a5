"""Backup and restore (SEC-5): a checksummed backup restores into an empty database with every row and
an intact audit chain; damage and non-empty targets are refused; old backups are pruned."""

import datetime as dt
import json
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from administration.services.backup import BackupError, backup_create, backup_list, backup_prune, backup_verify_files
from audit.context import audit_context
from audit.models import AuditEvent
from materials.models import Material


@pytest.fixture
def plant_data(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "labels").mkdir(parents=True)
    (tmp_path / "media" / "labels" / "lot-0001.pdf").write_bytes(b"%PDF-1.7 label")
    with audit_context(action="test.seed", reason="backup test"):
        for i in range(5):
            Material.objects.create(code=f"M-{i}", name=f"Material {i}", type="raw", unit="kg")
    return tmp_path


def _owner_settings() -> dict:
    """Creating and restoring a database is the owner role's work (DATABASE_OWNER_URL), not the runtime's."""
    from django.conf import settings

    return {**connection.settings_dict, **settings.MES_DB_OWNER}


def _pg_admin():
    import psycopg

    s = _owner_settings()
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def empty_target(tmp_path):
    """An empty database of the same vendor, and its URL."""
    if connection.vendor == "postgresql":
        name = f"mes_admin_restore_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        s = _owner_settings()
        yield f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"


@pytest.mark.req("SEC-5", "AUD-4")
@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip(plant_data, empty_target, tmp_path, capsys):
    backup = backup_create(directory=tmp_path / "backups")
    manifest = json.loads((backup / "manifest.json").read_text())
    expected = {"manifest.sha256", "manifest.json", "media.tar.gz", "audit-checkpoints.jsonl"}
    expected.add("database.dump" if connection.vendor == "postgresql" else "database.sqlite3.gz")
    assert {p.name for p in backup.iterdir()} == expected
    assert manifest["row_counts"]["materials_material"] == 5 and manifest["media_files"] == 1
    assert (
        manifest["audit_head"]["seq"] == AuditEvent.objects.order_by("-seq").first().seq - 1
    )  # the backup event follows
    assert AuditEvent.objects.filter(action="system.backup", object_id=backup.name).exists()

    media = tmp_path / "restored-media"
    call_command("restore", str(backup), database_url=empty_target, media_root=str(media))
    out = capsys.readouterr().out
    assert "Restore verified" in out and "audit chain of" in out
    assert (media / "labels" / "lot-0001.pdf").read_bytes() == b"%PDF-1.7 label"
    restored = _count(empty_target, "materials_material")
    assert restored == 5

    # the target is no longer empty: a second restore into it is refused
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup), database_url=empty_target)


def _count(url, table):
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as c:
            return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as c:
        return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.mark.req("SEC-5")
@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_restored(plant_data, empty_target, tmp_path):
    backup = backup_create(directory=tmp_path / "backups")
    dump = next(p for p in backup.iterdir() if p.name.startswith("database."))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="does not match its checksum"):
        backup_verify_files(backup)
    with pytest.raises(CommandError, match="checksum"):
        call_command("restore", str(backup), database_url=empty_target)
    (backup / "manifest.json").write_text((backup / "manifest.json").read_text().replace('"format": 1', '"format": 2'))
    with pytest.raises(BackupError, match="manifest does not match"):
        backup_verify_files(backup)


@pytest.mark.req("SEC-5")
@pytest.mark.django_db(transaction=True)
def test_restore_verification_detects_missing_rows(plant_data, tmp_path):
    """The verification itself: a restored database that lost rows fails it."""
    from administration.services.backup import restore_verify

    backup = backup_create(directory=tmp_path / "backups")
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["row_counts"]["materials_material"] = 6  # as if a row had been lost on the way
    manifest_path.write_text(json.dumps(manifest))
    report = restore_verify(backup=backup)  # run against this (complete) database
    assert not report.ok and any("materials_material" in p for p in report.problems)


@pytest.mark.req("SEC-5")
@pytest.mark.django_db
def test_old_backups_are_pruned_by_the_retention_setting_keeping_the_newest(tmp_path, settings):
    settings.MES_BACKUP_RETENTION_DAYS = 7
    now = timezone.now()
    for age in (30, 10, 8, 2):
        path = tmp_path / f"mes-backup-{age:03d}"
        path.mkdir()
        (path / "manifest.json").write_text(json.dumps({"created_at": (now - dt.timedelta(days=age)).isoformat()}))
    removed = backup_prune(directory=tmp_path, now=now)
    assert sorted(removed) == ["mes-backup-008", "mes-backup-010", "mes-backup-030"]
    assert [b.path.name for b in backup_list(tmp_path)] == ["mes-backup-002"]
    # all expired: the newest is kept anyway
    assert backup_prune(directory=tmp_path, now=now + dt.timedelta(days=100)) == []
    assert AuditEvent.objects.filter(action="system.backup_prune").count() == 1


@pytest.mark.req("SEC-5")
def test_the_backup_is_scheduled_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["backup-daily"]
    assert entry["task"] == "administration.tasks.backup_run" and entry["schedule"] == 24 * 3600.0
    from administration.tasks import backup_run

    assert backup_run.name == "administration.tasks.backup_run"
