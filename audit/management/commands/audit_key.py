"""Show or rotate the audit key ring (the keys themselves are never printed)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from audit.keys import key_ring, key_ring_rotate
from audit.services import audit_record
from audit.verification import write_checkpoint


class Command(BaseCommand):
    help = "Show the audit key ring's key ids, create it (`create`) or add a new current key (`rotate`)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["show", "create", "rotate"], nargs="?", default="show")

    def handle(self, *args, action: str, **options):
        if action == "rotate":
            before = key_ring().current
            ring = key_ring_rotate()
            with transaction.atomic():  # the rotation is itself in the trail, keyed with the new key
                audit_record(action="audit.key_rotated", object_type="audit.keyring", old={"key_id": before},
                             new={"key_id": ring.current})  # fmt: skip
            write_checkpoint()
        ring = key_ring()
        self.stdout.write(f"current key: {ring.current}")
        self.stdout.write(f"keys in the ring: {', '.join(sorted(ring.keys))}")
