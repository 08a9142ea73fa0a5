"""Export a period's GMP records, audit trail, signatures and files with a checksummed manifest."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from administration.services.archive import archive_export, archive_verify


class Command(BaseCommand):
    help = "Archive export for long-term storage: records + audit trail + files of a period, with checksums."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--dir", help="where to write (default: settings.MES_ARCHIVE_DIR)")

    def handle(self, *args, **options):
        try:
            start = dt.date.fromisoformat(options["date_from"])
            end = dt.date.fromisoformat(options["date_to"])
            path = archive_export(date_from=start, date_to=end, directory=options.get("dir"))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        problems = archive_verify(path)
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS(f"Archive written and verified: {path}"))
