"""`manage.py balance_simulator`: MT-SICS balances on TCP for the demo and for people testing.

Serves every balance configured on this machine (host 127.0.0.1 or localhost) with its serial
number, capacity and readability from its metrology record, or one ad-hoc balance (--port).
Set the weight with XSIM lines (see equipment.balances.simulator), for example:
    printf 'XSIM W 85.3\\r\\n' | nc 127.0.0.1 8101
"""

import time
from decimal import Decimal

from django.core.management.base import BaseCommand

from equipment.balances.simulator import BalanceSimulator
from equipment.models import Balance

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _decimals(readability: Decimal) -> int:
    return max(-readability.normalize().as_tuple().exponent, 0)


def configured_simulators() -> list[tuple[str, BalanceSimulator]]:
    """A (not yet started) simulator for every balance configured on this machine, as its record says."""
    sims = []
    for b in Balance.objects.select_related("equipment", "metrology").filter(host__in=LOCAL_HOSTS):
        m = getattr(b, "metrology", None)
        if m is not None:
            sim = BalanceSimulator(
                serial=m.serial_number, capacity=m.capacity, decimals=_decimals(m.readability), unit=m.unit, port=b.port
            )
            sims.append((b.equipment.code, sim))
    return sims


class Command(BaseCommand):
    help = "Run simulated MT-SICS balances on TCP (the configured local balances, or one given by --port)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="serve one ad-hoc balance on this port")
        parser.add_argument("--serial", default="SIM0000001")
        parser.add_argument("--capacity", default="6200", help="grams")
        parser.add_argument("--decimals", type=int, default=2)

    def handle(self, *args, port, serial, capacity, decimals, **options):
        sims = []
        if port is not None:
            sims.append(
                (f"port {port}", BalanceSimulator(serial=serial, capacity=capacity, decimals=decimals, port=port))
            )
        else:
            sims = configured_simulators()
        if not sims:
            self.stdout.write(self.style.WARNING("No local balance is configured; nothing to simulate (see --port)."))
            return
        for name, sim in sims:
            sim.start()
            self.stdout.write(f"Balance simulator {name}: MT-SICS on {sim.host}:{sim.port} (serial {sim.state.serial})")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            for _name, sim in sims:
                sim.stop()
