"""The demo plant's simulator: no fault storm under a visitor walking a batch, faults on demand."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from equipment.models import FaultReport
from equipment.opcua.demo import fault_request_dir
from equipment.opcua.simulator import Simulator, default_equipment
from tests.equipment.test_opcua import endpoint, poll, server  # noqa: F401 - fixtures

DAY_SHIFT_TICKS = 8 * 3600  # one update per second


def _faults(simulator: Simulator, ticks: int) -> int:
    raised = 0
    for _ in range(ticks):
        before = {code: eq.tags["state"].value for code, eq in simulator.equipment.items()}
        simulator.tick()
        raised += sum(1 for code, eq in simulator.equipment.items() if eq.tags["state"].value == 2 != before[code])
    return raised


def test_make_run_starts_the_simulator_without_random_faults():
    namespace = {"BIN": Path("/bin"), "PYTHON": "python"}  # what scripts/run_all.py gives the file
    source = (Path(__file__).resolve().parents[2] / "scripts" / "run_extra.py").read_text()
    exec(compile(source, "run_extra.py", "exec"), namespace)  # noqa: S102 - our own file, as run_all does
    argv = namespace["PROCESSES"]["opcua"]
    assert argv[argv.index("--fault-rate") + 1] == "0"
    plant = [default_equipment(code) for code in ("GRAN-01", "FBD-01", "TAB-01")]
    # What a visitor saw before: the default rate faults the plant again and again in a shift ...
    assert _faults(Simulator(plant, seed=1, fault_rate=0.002), DAY_SHIFT_TICKS) > 10
    # ... and with the demo's rate, a whole shift passes without one.
    plant = [default_equipment(code) for code in ("GRAN-01", "FBD-01", "TAB-01")]
    assert _faults(Simulator(plant, seed=1, fault_rate=0.0), DAY_SHIFT_TICKS) == 0


@pytest.mark.django_db
@pytest.mark.req("EQP-3")
def test_a_fault_on_demand_takes_the_real_alarm_path(equipment, server, endpoint, tmp_path):  # noqa: F811
    poll(endpoint)
    with override_settings(VAR_DIR=tmp_path):
        call_command("opcua_fault", equipment.code, "--alarm", "310")
        server.sim.fault_requests = fault_request_dir()
        assert list(fault_request_dir().glob("*.fault"))

    async def update():
        await server.sim.publish(server.sim.take_fault_requests())

    server.call(update())
    assert not list(server.sim.fault_requests.glob("*.fault"))  # taken once
    assert poll(endpoint).faults == 1
    fault = FaultReport.objects.get(equipment=equipment)
    assert fault.source == "alarm" and fault.alarm_code == "310"
