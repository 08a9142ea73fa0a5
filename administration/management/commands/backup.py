"""Write a backup of the database and the stored files (SEC-5). Scheduled daily by Celery beat."""

from django.core.management.base import BaseCommand, CommandError

from administration.services.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (pg_dump / SQLite backup API) and stored files, with a checksummed manifest."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="backup directory (default: settings.MES_BACKUP_DIR)")
        parser.add_argument("--no-prune", action="store_true", help="keep old backups this time")

    def handle(self, *args, **options):
        try:
            path = backup_create(directory=options.get("dir"), prune=not options["no_prune"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Backup written: {path}"))
