"""Prove that the cached stock balances agree with the inventory ledger (exit 1 if not)."""

from django.core.management.base import BaseCommand, CommandError

from materials.models import Location, Lot
from materials.services import stock_check


class Command(BaseCommand):
    help = "Compare every cached stock balance with the sum of its ledger entries."

    def handle(self, *args, **options):
        mismatches = stock_check()
        if not mismatches:
            self.stdout.write(self.style.SUCCESS("Stock balances agree with the ledger."))
            return
        lots = dict(Lot.objects.filter(pk__in={m.lot_id for m in mismatches}).values_list("pk", "code"))
        locations = dict(Location.objects.filter(pk__in={m.location_id for m in mismatches}).values_list("pk", "code"))
        for m in mismatches:
            self.stdout.write(
                f"{lots.get(m.lot_id, m.lot_id)} @ {locations.get(m.location_id, m.location_id)}: "
                f"ledger {m.ledger} != cached {m.cached}"
            )
        raise CommandError(f"{len(mismatches)} stock balance(s) disagree with the ledger.")
