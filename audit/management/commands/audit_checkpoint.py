from django.core.management.base import BaseCommand

from audit.verification import write_checkpoint


class Command(BaseCommand):
    help = "Write the audit chain head (position and hash) to the checkpoint file outside the database."

    def handle(self, *args, **options):
        entry = write_checkpoint()
        self.stdout.write(f"checkpoint #{entry['seq']} {entry['hash']}")
