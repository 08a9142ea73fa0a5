"""`manage.py opcua_fault CODE`: the running demo simulator raises a machine alarm on that equipment."""

from django.core.management.base import BaseCommand, CommandError

from equipment.models import Equipment
from equipment.opcua.demo import fault_request_dir
from equipment.opcua.simulator import ALARMS, fault_request


class Command(BaseCommand):
    help = (
        "Ask the running OPC UA simulator (make run) to raise a machine alarm on one equipment, to show the fault flow."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="equipment code, e.g. GRAN-01")
        parser.add_argument("--alarm", type=int, choices=sorted(ALARMS), default=None, help="alarm code to raise")

    def handle(self, *args, code, alarm, **options):
        if not Equipment.objects.filter(code=code).exists():
            raise CommandError(f"There is no equipment {code}.")
        path = fault_request(fault_request_dir(), code, alarm)
        self.stdout.write(
            f"Asked the simulator to fault {code} ({path}). Within a few seconds the equipment board shows the "
            "alarm and a fault report waits for maintenance."
        )
