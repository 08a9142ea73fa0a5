"""A critical parameter read from OPC UA outside its limits during a batch opens one deviation per excursion.

Against the project's asyncua simulator on loopback (a real OPC UA server), polled by the real poller.
"""

from __future__ import annotations

import pytest

from audit.context import audit_context
from batches.models import ProcessExcursion
from equipment.models import EquipmentTag, TagReading
from equipment.opcua.config import simulated_equipment, tags_configure
from equipment.opcua.link import reset_links
from equipment.opcua.simulator import Simulator, SimulatorThread, free_port
from equipment.services import equipment_start_use, opcua_poll
from equipment.services.monitoring import forget_memory
from quality.models import Deviation
from quality.selectors import deviations_for

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def endpoint():
    return f"opc.tcp://127.0.0.1:{free_port()}/mes/excursion"


@pytest.fixture
def server(equipment, endpoint):
    forget_memory()
    reset_links()
    tags_configure(equipment, endpoint)
    temperature = EquipmentTag.objects.get(equipment=equipment, key="temperature")
    temperature.critical = True  # 30 … 60 °C
    with audit_context(action="test.tag.critical"):
        temperature.save()
    sim = SimulatorThread(Simulator(simulated_equipment(endpoint), endpoint, seed=7))
    sim.start()
    yield sim
    reset_links()
    forget_memory()
    sim.close()


def poll(endpoint):
    (result,) = opcua_poll(endpoint=endpoint)
    assert result.ok, result
    return result


def test_one_deviation_per_excursion_with_values_and_source_times(equipment, server, endpoint, make_batch, users):
    batch = make_batch()
    equipment_start_use(equipment=equipment, batch=batch, user=users["operator"], step="3. Granulation")
    poll(endpoint)
    assert not deviations_for("batches.batch", batch.pk).exists()

    server.set(equipment.code, "temperature", 63.5)
    poll(endpoint)
    server.set(equipment.code, "temperature", 66.0)  # still the same excursion, worse
    poll(endpoint)
    server.set(equipment.code, "temperature", 64.0)
    poll(endpoint)
    deviations = list(deviations_for("batches.batch", batch.pk))
    assert len(deviations) == 1, [d.title for d in deviations]
    first = TagReading.objects.filter(tag__equipment=equipment, tag__key="temperature", value=63.5).get()
    text = deviations[0].description
    assert "63.5" in text and "30 … 60 °C" in text and "3. Granulation" in text
    from django.utils import timezone

    assert timezone.localtime(first.source_ts).strftime("%Y-%m-%d %H:%M:%S") in text
    assert deviations[0].classification == "major" and deviations[0].source == "parameter"
    assert deviations_for("equipment.equipment", equipment.pk).filter(pk=deviations[0].pk).exists()
    excursion = ProcessExcursion.objects.get()
    assert excursion.worst_value == 66.0 and excursion.ended_source_ts is None
    assert excursion.first_source_ts == first.source_ts and excursion.first_server_ts == first.server_ts

    server.set(equipment.code, "temperature", 45.0)  # back within limits: the excursion ends
    poll(endpoint)
    excursion.refresh_from_db()
    assert excursion.end_value == 45.0 and excursion.ended_source_ts is not None

    server.set(equipment.code, "temperature", 25.0)  # a new excursion, below the low limit
    poll(endpoint)
    assert deviations_for("batches.batch", batch.pk).count() == 2
    assert ProcessExcursion.objects.filter(batch=batch).count() == 2


def test_no_deviation_for_a_non_critical_tag_or_without_a_batch(equipment, server, endpoint, make_batch, users):
    poll(endpoint)
    server.set(equipment.code, "temperature", 70.0)  # critical, but no batch uses the equipment
    poll(endpoint)
    assert not ProcessExcursion.objects.exists() and not Deviation.objects.exists()
    server.set(equipment.code, "temperature", 45.0)
    poll(endpoint)
    equipment_start_use(equipment=equipment, batch=make_batch(), user=users["operator"])
    server.set(equipment.code, "pressure", 2.5)  # outside its limits, but not a critical parameter
    poll(endpoint)
    assert not ProcessExcursion.objects.exists() and not Deviation.objects.exists()
