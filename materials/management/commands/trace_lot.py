"""Print the backward (default) or forward genealogy of a lot as an indented tree."""

from django.core.management.base import BaseCommand, CommandError

from materials.genealogy import BACKWARD, FORWARD, trace_lot
from materials.models import Lot


class Command(BaseCommand):
    help = "Trace a lot: everything that went into it (--backward) or everything that used it (--forward)."

    def add_arguments(self, parser):
        parser.add_argument("lot")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--forward", action="store_true")
        group.add_argument("--backward", action="store_true")

    def handle(self, *args, lot, forward, backward, **options):
        direction = FORWARD if forward else BACKWARD
        try:
            trace = trace_lot(lot.strip().upper(), direction)
        except Lot.DoesNotExist:
            raise CommandError(f"Lot {lot} is not known.") from None
        root = trace.root
        self.stdout.write(f"{root.code} {root.material_code} {root.material_name} [{root.effective_status}]")
        verb = "made in" if direction == BACKWARD else "used in"
        for level, link, node in trace.rows():
            pad = "  " * level
            what = f"{node.code} {node.material_code} {node.material_name} [{node.effective_status}]" if node else "-"
            self.stdout.write(f"{pad}{verb} {link.batch_number} -> {what}")
            for c in trace.containers_of(link):  # source lot -> container -> batch (issue 19)
                self.stdout.write(f"{pad}  container {c.code} {c.net_text} {c.balance_code}".rstrip())
        self.stdout.write(f"{trace.lot_count} lots, {trace.batch_count} batches ({direction}).")
