"""Load the demo plant: users for every role and each app's demo data. Safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction

from audit.context import audit_context
from audit.verification import write_checkpoint
from mes.changecontrol import controlled_writes
from mes.registry import seeders


class Command(BaseCommand):
    help = "Create demo users (one per role) and demo plant data. Idempotent."

    def handle(self, *args, **options):
        for _order, app, seed in seeders():
            self.stdout.write(f"seeding {app} ...")
            # The demo's master data is laid out as a seed, not edited by a person (mes.changecontrol).
            with (
                transaction.atomic(),
                controlled_writes("demo data (seed_demo)"),
                audit_context(action="", reason="demo data (seed_demo)"),
            ):
                seed(self.stdout)
        write_checkpoint()  # the seeded trail is witnessed at once; the scheduler adds one every minute
        self.stdout.write(self.style.SUCCESS("Demo plant ready."))
