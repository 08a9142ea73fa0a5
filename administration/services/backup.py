"""Backup and restore (SEC-5).

`backup_create` writes one directory per backup under settings.MES_BACKUP_DIR:

    mes-backup-20260128T020000Z/
        database.dump        PostgreSQL: pg_dump custom format (compressed), from an exported snapshot
        database.sqlite3.gz  SQLite: the online backup API, gzipped
        media.tar.gz         the stored files (PDFs, labels) under MEDIA_ROOT
        audit-checkpoints.jsonl   the audit-chain checkpoints up to the backup
        manifest.json        SHA-256 and size of each file, row count of every table, audit-chain head
        manifest.sha256      SHA-256 of manifest.json

The row counts and the dump come from the same database snapshot, so they agree exactly. The
directory is written under a temporary name and renamed when complete. Backups older than the
controlled retention (retention.backup_days) are pruned; the newest is always kept.

`backup_restore` restores into an EMPTY database (and an empty media directory), then verifies it:
file checksums before, and after: row counts equal to the manifest, the audit-trail hash chain intact
and ending at the manifest's head.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.services import audit_record
from audit.verification import checkpoint_signed, verify_chain
from mes.config import config_get

logger = logging.getLogger("mes.backup")
PREFIX = "mes-backup-"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """The backup or restore could not be made or verified; the message says why."""


# --- helpers ------------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_params(settings_dict: dict) -> tuple[list[str], dict]:
    args = ["-h", settings_dict.get("HOST") or "127.0.0.1", "-p", str(settings_dict.get("PORT") or 5432)]
    if settings_dict.get("USER"):
        args += ["-U", settings_dict["USER"]]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    if _target_session_attrs(settings_dict):  # a multi-host URL: dump from / restore to the primary
        env["PGTARGETSESSIONATTRS"] = _target_session_attrs(settings_dict)
    return args, env


def _target_session_attrs(settings_dict: dict) -> str:
    return (settings_dict.get("OPTIONS") or {}).get("target_session_attrs", "")


def _pg_connect(settings_dict: dict, dbname: str | None = None):
    return psycopg.connect(
        host=settings_dict.get("HOST") or "127.0.0.1",
        port=settings_dict.get("PORT") or 5432,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        dbname=dbname or settings_dict["NAME"],
        target_session_attrs=_target_session_attrs(settings_dict) or "any",
    )


def _count_rows(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _pg_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return [r[0] for r in cursor.fetchall()]


def _sqlite_tables(cursor) -> list[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [r[0] for r in cursor.fetchall()]


def _head(cursor) -> dict:
    cursor.execute("SELECT seq, hash FROM audit_chainhead WHERE id = 1")
    row = cursor.fetchone()
    return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": "0" * 64}


# --- backup ---------------------------------------------------------------------------------------
def backup_create(*, actor=None, directory: Path | None = None, prune: bool = True) -> Path:
    """Write a complete, checksummed backup; returns its directory. Audited as system.backup."""
    root = Path(directory or settings.MES_BACKUP_DIR)
    root.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    work = root / f".partial-{stamp}"
    work.mkdir()
    try:
        if connection.vendor == "postgresql":
            counts, head = _pg_backup(work / "database.dump")
        elif connection.vendor == "sqlite":
            counts, head = _sqlite_backup(work / "database.sqlite3.gz")
        else:
            raise BackupError(f"backups are not written for {connection.vendor}")
        media_files = _media_archive(work / "media.tar.gz")
        _copy_checkpoints(work / "audit-checkpoints.jsonl", head)
        manifest = {
            "format": 1,
            "created_at": timezone.now().isoformat(),
            "vendor": connection.vendor,
            "files": {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in sorted(work.iterdir())},
            "row_counts": counts,
            "audit_head": head,
            "media_files": media_files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        (work / "manifest.sha256").write_text(f"{sha256_file(work / MANIFEST)}  {MANIFEST}\n", encoding="utf-8")
        target = root / f"{PREFIX}{stamp}"
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in target.iterdir())
    with transaction.atomic():
        audit_record(
            action="system.backup",
            actor=actor,
            object_type="system.backup",
            object_id=target.name,
            new={"bytes": size, "tables": len(counts), "audit_head_seq": head["seq"], "media_files": media_files},
        )
    logger.info("backup written: %s (%s bytes)", target, size)
    if prune:
        backup_prune(actor=actor, directory=root)
    return target


def _pg_backup(path: Path) -> tuple[dict, dict]:
    """Counts and head from an exported snapshot, and pg_dump of that same snapshot."""
    settings_dict = connection.settings_dict

    with _pg_connect(settings_dict) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _count_rows(cursor, _pg_tables(cursor))
            head = _head(cursor)
            args, env = _pg_params(settings_dict)
            command = [
                "pg_dump",
                *args,
                "-d",
                settings_dict["NAME"],
                "-Fc",
                "-Z",
                "6",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "-f",
                str(path),
            ]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        conn.rollback()
    return counts, head


def _sqlite_backup(path: Path) -> tuple[dict, dict]:
    source_path = connection.settings_dict["NAME"]
    raw = path.with_suffix("")  # database.sqlite3
    source = sqlite3.connect(str(source_path))
    try:
        copy = sqlite3.connect(str(raw))
        try:
            source.backup(copy)  # consistent online copy
            cursor = copy.cursor()
            counts = _count_rows(cursor, _sqlite_tables(cursor))
            head = _head(cursor)
        finally:
            copy.close()
    finally:
        source.close()
    with raw.open("rb") as src, gzip.open(path, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst)
    raw.unlink()
    return counts, head


def _media_archive(path: Path) -> int:
    media = Path(settings.MEDIA_ROOT)
    count = 0
    with tarfile.open(path, "w:gz") as tar:
        if media.exists():
            for file in sorted(p for p in media.rglob("*") if p.is_file()):
                tar.add(file, arcname=str(file.relative_to(media)))
                count += 1
    return count


def _copy_checkpoints(path: Path, head: dict) -> None:
    """The witness's checkpoints up to the backup's chain head, and a signed checkpoint of that head."""
    source = Path(settings.MES_AUDIT_CHECKPOINT_FILE)
    lines = []
    if source.exists():
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line).get("seq", 0) <= head["seq"]:
                lines.append(line)
    lines.append(json.dumps(checkpoint_signed(head["seq"], head["hash"]), sort_keys=True))
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


# --- listing and pruning ------------------------------------------------------------------------------
@dataclass
class BackupInfo:
    path: Path
    created_at: dt.datetime
    bytes: int
    manifest: dict = field(default_factory=dict)


def backup_list(directory: Path | None = None) -> list[BackupInfo]:
    """Complete backups (with a manifest), newest first."""
    root = Path(directory or settings.MES_BACKUP_DIR)
    found = []
    if root.exists():
        for path in root.glob(f"{PREFIX}*"):
            manifest_path = path / MANIFEST
            if not manifest_path.exists():
                continue
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            created = dt.datetime.fromisoformat(manifest["created_at"])
            size = sum(p.stat().st_size for p in path.iterdir())
            found.append(BackupInfo(path, created, size, manifest))
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def backup_prune(*, actor=None, directory: Path | None = None, now: dt.datetime | None = None) -> list[str]:
    """Remove backups older than the retention (configuration retention.backup_days); keep the newest."""
    days = config_get("retention.backup_days")
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    backups = backup_list(directory)
    removed = [b.path.name for b in backups[1:] if b.created_at < cutoff]
    for name in removed:
        shutil.rmtree(Path(directory or settings.MES_BACKUP_DIR) / name)
    if removed:
        with transaction.atomic():
            audit_record(
                action="system.backup_prune",
                actor=actor,
                object_type="system.backup",
                new={"removed": removed, "retention_days": days},
            )
    return removed


# --- restore ------------------------------------------------------------------------------------------
def backup_verify_files(backup: Path) -> dict:
    """Check the manifest's own checksum and every file's; returns the manifest."""
    backup = Path(backup)
    manifest_path = backup / MANIFEST
    if not manifest_path.exists():
        raise BackupError(f"{backup} has no {MANIFEST}: not a complete backup")
    recorded = (backup / "manifest.sha256").read_text(encoding="utf-8").split()[0]
    if sha256_file(manifest_path) != recorded:
        raise BackupError("the manifest does not match its checksum")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name, info in manifest["files"].items():
        path = backup / name
        if not path.exists():
            raise BackupError(f"{name} is missing from the backup")
        if sha256_file(path) != info["sha256"]:
            raise BackupError(f"{name} does not match its checksum (damaged or altered)")
    return manifest


@dataclass
class RestoreReport:
    ok: bool
    tables: int = 0
    rows: int = 0
    audit_events: int = 0
    problems: list[str] = field(default_factory=list)


def backup_restore(*, backup: Path, database: dict, media_root: Path | None = None) -> None:
    """Restore `backup` into the empty database described by `database` (a Django settings dict)."""
    backup = Path(backup)
    manifest = backup_verify_files(backup)
    engine = database["ENGINE"]
    if manifest["vendor"] == "postgresql":
        if not engine.endswith("postgresql"):
            raise BackupError("a PostgreSQL backup restores into PostgreSQL")
        _pg_restore(backup / "database.dump", database)
    else:
        if not engine.endswith("sqlite3"):
            raise BackupError("a SQLite backup restores into SQLite")
        _sqlite_restore(backup / "database.sqlite3.gz", Path(database["NAME"]))
    if media_root is not None:
        _media_restore(backup / "media.tar.gz", Path(media_root))


def _pg_restore(dump: Path, database: dict) -> None:
    with _pg_connect(database) as conn, conn.cursor() as cursor:
        if _pg_tables(cursor):
            raise BackupError(f"database {database['NAME']} is not empty; restore only into an empty database")
    args, env = _pg_params(database)
    command = ["pg_restore", *args, "-d", database["NAME"], "--no-owner", "--no-privileges", "--exit-on-error"]
    done = subprocess.run([*command, str(dump)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def _sqlite_restore(archive: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size > 0:
        check = sqlite3.connect(str(target))
        try:
            if _sqlite_tables(check.cursor()):
                raise BackupError(f"{target} is not empty; restore only into an empty database")
        finally:
            check.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(archive, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)


def _media_restore(archive: Path, media_root: Path) -> None:
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"{media_root} is not empty; restore stored files only into an empty directory")
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(media_root, filter="data")  # refuses absolute paths and ".." members


def restore_verify(*, backup: Path) -> RestoreReport:
    """Run against the restored database (the default connection): row counts and the audit chain."""
    backup = Path(backup)
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    report = RestoreReport(ok=True)
    with connection.cursor() as cursor:
        # the backup counted every table, partitions of machine readings included (introspection skips them)
        tables = _pg_tables(cursor) if connection.vendor == "postgresql" else _sqlite_tables(cursor)
        counts = _count_rows(cursor, [t for t in tables if t in manifest["row_counts"]])
        head = _head(cursor)
    for table, expected in sorted(manifest["row_counts"].items()):
        if table not in counts:
            report.problems.append(f"table {table} is missing")
        elif counts[table] != expected:
            report.problems.append(f"table {table}: {counts[table]} rows, the backup had {expected}")
    chain = verify_chain(backup / "audit-checkpoints.jsonl")
    if not chain.ok:
        report.problems.extend(chain.problems[:20])
    if head != manifest["audit_head"]:
        report.problems.append(f"audit chain head {head} differs from the backup's {manifest['audit_head']}")
    report.ok = not report.problems
    report.tables, report.rows, report.audit_events = len(counts), sum(counts.values()), chain.events
    return report


def restore_verify_in(database_url: str, backup: Path) -> tuple[bool, str]:
    """Verify a restored database other than the default one, in a process configured for it."""
    env = {**os.environ, "DATABASE_URL": database_url}
    manage = Path(settings.BASE_DIR) / "manage.py"
    done = subprocess.run(
        [sys.executable, str(manage), "restore", str(backup), "--verify-only"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()
