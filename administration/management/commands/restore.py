"""Restore a backup into an EMPTY database and verify it: checksums, row counts, audit chain (SEC-5).

    manage.py restore var/backups/mes-backup-... --database-url postgres://.../mes_restored --media-root /srv/media

Without --database-url the configured database is the target (it must be empty: create it, do not
migrate it). The verification of a target other than the configured database runs in a process
configured for it (`--verify-only`), which exits 1 if anything differs.
"""

import sys
from pathlib import Path

import dj_database_url
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from administration.services.backup import (
    BackupError,
    backup_restore,
    backup_verify_files,
    restore_verify,
    restore_verify_in,
)
from audit.services import audit_record


class Command(BaseCommand):
    help = "Restore a backup into an empty database and verify checksums, row counts and the audit chain."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the backup directory (containing manifest.json)")
        parser.add_argument("--database-url", help="target database (default: the configured one)")
        parser.add_argument("--media-root", help="restore the stored files into this empty directory")
        parser.add_argument("--verify-only", action="store_true", help="only verify the configured database")

    def handle(self, *args, **options):
        backup = Path(options["backup"])
        try:
            if options["verify_only"]:
                return self._verify_here(backup)
            backup_verify_files(backup)
            self.stdout.write("Checksums verified.")
            url = options.get("database_url")
            database = dj_database_url.parse(url) if url else connection.settings_dict
            backup_restore(backup=backup, database=database, media_root=options.get("media_root"))
            self.stdout.write("Database restored.")
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if url:
            ok, output = restore_verify_in(url, backup)
            self.stdout.write(output)
            if not ok:
                raise CommandError("The restored database does not match the backup.")
        else:
            connection.close()  # the restore replaced what this connection may have cached
            self._verify_here(backup)

    def _verify_here(self, backup: Path):
        report = restore_verify(backup=backup)
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"  - {problem}")
            self.stderr.write("Restore verification FAILED.")
            sys.exit(1)
        with transaction.atomic():
            audit_record(
                action="system.restore",
                object_type="system.backup",
                object_id=backup.name,
                new={"tables": report.tables, "rows": report.rows, "audit_events": report.audit_events},
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Restore verified: {report.tables} tables, {report.rows} rows, "
                f"audit chain of {report.audit_events} events intact."
            )
        )
