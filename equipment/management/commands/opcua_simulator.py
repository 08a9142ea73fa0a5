"""`manage.py opcua_simulator`: the bundled OPC UA server simulating the demo equipment."""

import asyncio
import logging

from django.core.management.base import BaseCommand

from equipment.opcua.config import simulated_equipment
from equipment.opcua.demo import fault_request_dir
from equipment.opcua.simulator import DEFAULT_URL, Simulator, default_equipment


class Command(BaseCommand):
    help = "Run an OPC UA server (asyncua) simulating the equipment configured on its endpoint."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=DEFAULT_URL, help=f"endpoint to serve (default {DEFAULT_URL})")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between value updates")
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable runs)")
        parser.add_argument(
            "--fault-rate",
            type=float,
            default=0.002,
            help="chance per update that a running machine faults (alarm); make run uses 0 (faults on demand)",
        )

    def handle(self, *args, url, interval, seed, fault_rate, **options):
        logging.getLogger("asyncua").setLevel(logging.ERROR)
        plant = simulated_equipment(url)
        if not plant:
            self.stdout.write(self.style.WARNING(f"No equipment is configured on {url}; simulating 3 examples."))
            plant = [default_equipment(code) for code in ("SIM-01", "SIM-02", "SIM-03")]
        self.stdout.write(
            f"OPC UA simulator on {url}: {len(plant)} equipment, "
            f"{sum(len(e.tags) for e in plant)} tags, updates every {interval:g} s, fault rate {fault_rate:g}. "
            "`manage.py opcua_fault CODE` raises a fault on demand. Ctrl-C stops it."
        )
        requests = fault_request_dir()
        simulator = Simulator(plant, url, seed=seed, fault_rate=fault_rate, fault_requests=requests)
        try:
            asyncio.run(simulator.run(interval))
        except KeyboardInterrupt:
            pass
