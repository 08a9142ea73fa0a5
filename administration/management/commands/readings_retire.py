"""Retire one month of machine readings: DETACH and DROP its partition once archived (issue 20)."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from administration.services.readings import RetireRefused, archive_covering, readings_retire


class Command(BaseCommand):
    help = (
        "Drop a month's partition of machine readings, older than retention.readings_months, once a "
        "verified archive export holds its readings (PostgreSQL; run with DATABASE_OWNER_URL set)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="the month to retire, YYYY-MM")
        parser.add_argument("--archive", help="the archive export directory (default: the newest covering it)")

    def handle(self, *args, **options):
        try:
            month = dt.date.fromisoformat(options["month"] + "-01")
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from exc
        archive = Path(options["archive"]) if options.get("archive") else archive_covering(month)
        if archive is None:
            raise CommandError(f"no archive export covers {month:%Y-%m}: run manage.py archive_export first")
        try:
            done = readings_retire(month=month, archive=archive)
        except RetireRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Retired {done['month']}: {done['rows']} readings (manifest {done['manifest_sha256']})")
        )
