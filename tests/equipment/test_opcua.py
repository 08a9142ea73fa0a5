"""OPC UA monitoring against a real asyncua server on loopback: storage, alarms, link loss."""

from __future__ import annotations

import time

import pytest

from equipment.models import CommState, EquipmentLive, FaultReport, LogbookEntry, TagReading
from equipment.opcua.config import simulated_equipment, tags_configure
from equipment.opcua.link import reset_links
from equipment.opcua.simulator import Simulator, SimulatorThread, free_port
from equipment.services import equipment_check_usable, equipment_latest_reading, opcua_poll
from equipment.services.monitoring import forget_memory

pytestmark = [pytest.mark.django_db, pytest.mark.req("EQP-2", "EQP-9", "INT-3")]


@pytest.fixture
def endpoint():
    return f"opc.tcp://127.0.0.1:{free_port()}/mes/test"


@pytest.fixture
def server(equipment, endpoint):
    """A real asyncua server serving exactly the tags configured on the equipment (values set by hand)."""
    forget_memory()
    reset_links()
    tags_configure(equipment, endpoint)
    sim = SimulatorThread(Simulator(simulated_equipment(endpoint), endpoint, seed=7))
    sim.start()
    yield sim
    reset_links()
    forget_memory()
    sim.close()


def poll(endpoint):
    (result,) = opcua_poll(endpoint=endpoint)
    return result


def readings(equipment, key):
    return list(TagReading.objects.filter(tag__equipment=equipment, tag__key=key).order_by("source_ts"))


def test_poll_stores_values_with_timestamps_quality_and_deadband(equipment, server, endpoint):
    first = poll(endpoint)
    assert first.ok and first.read == 8 and first.stored == 8
    temp = readings(equipment, "temperature")[0]
    assert temp.value == 45.0 and temp.status_code == 0 and temp.good
    assert temp.source_ts is not None and temp.server_ts is not None and temp.received_at >= temp.server_ts
    live = EquipmentLive.objects.get(equipment=equipment)
    assert live.comm_state == CommState.OK and live.machine_state == "running"

    assert poll(endpoint).stored == 0  # nothing changed: nothing stored
    server.set(equipment.code, "temperature", 45.1)  # within the 0.2 °C deadband
    assert poll(endpoint).stored == 0
    server.set(equipment.code, "temperature", 45.5)  # beyond it
    assert poll(endpoint).stored == 1
    assert [r.value for r in readings(equipment, "temperature")] == [45.0, 45.5]

    value = equipment_latest_reading(equipment=equipment, tag_key="temperature")
    assert value.machine_captured and value.value == 45.5 and value.unit == "°C" and value.good and not value.stale


@pytest.mark.req("EQP-3")
def test_an_alarm_opens_one_fault_report_not_one_per_poll(equipment, server, endpoint):
    poll(endpoint)
    server.set(equipment.code, "alarm_code", 205)
    server.set(equipment.code, "alarm", 1)
    server.set(equipment.code, "state", 2)
    assert poll(endpoint).faults == 1
    for _ in range(3):
        assert poll(endpoint).faults == 0
    # a link outage in the middle of the alarm must not raise it again
    server.stop()
    poll(endpoint)
    server.start()
    reset_links()  # skip the backoff wait; recovery timing has its own test
    assert poll(endpoint).ok
    faults = list(FaultReport.objects.filter(equipment=equipment))
    assert len(faults) == 1 and faults[0].source == "alarm" and faults[0].alarm_code == "205"
    assert faults[0].reported_by is None
    verdict = equipment_check_usable(equipment=equipment)
    assert not verdict.ok and any("Machine alarm 205" in r for r in verdict.reasons)
    assert EquipmentLive.objects.get(equipment=equipment).machine_state == "fault"

    server.set(equipment.code, "alarm", 0)
    poll(endpoint)
    server.set(equipment.code, "alarm", 1)  # a new occurrence
    assert poll(endpoint).faults == 1
    assert FaultReport.objects.filter(equipment=equipment).count() == 2


def test_link_loss_is_shown_backs_off_and_recovers_within_10_s_without_duplicates(equipment, server, endpoint):
    assert poll(endpoint).ok
    stored_before = TagReading.objects.count()

    server.stop()
    lost = poll(endpoint)
    assert not lost.ok and lost.error
    live = EquipmentLive.objects.get(equipment=equipment)
    assert live.comm_state == CommState.LOST
    assert any("Communication lost" in w for w in equipment_check_usable(equipment=equipment).warnings)
    assert equipment_latest_reading(equipment=equipment, tag_key="temperature").stale
    # polling on during the outage: backoff skips attempts, nothing is invented, "lost" is logged once
    results = [poll(endpoint) for _ in range(5)]
    assert any(r.skipped for r in results) and not any(r.ok for r in results)
    assert TagReading.objects.count() == stored_before
    # the machine goes on while the link is down: one value changes
    server.sim.set(equipment.code, "speed", 131.0)

    server.start()
    back = time.monotonic()
    while not poll(endpoint).ok:
        assert time.monotonic() - back < 10, "not reconnected within 10 s of the server's return"
        time.sleep(0.2)
    assert time.monotonic() - back < 10
    assert EquipmentLive.objects.get(equipment=equipment).comm_state == CommState.OK
    # only the changed value is new; every other tag keeps its single reading
    assert TagReading.objects.count() == stored_before + 1
    assert [r.value for r in readings(equipment, "speed")] == [120.0, 131.0]
    texts = list(LogbookEntry.objects.filter(equipment=equipment, kind="communication").values_list("text", flat=True))
    assert len(texts) == 2 and "lost" in texts[0] and "restored" in texts[1]
    # a further poll after recovery stores nothing new (no duplicates of the re-read values)
    assert poll(endpoint).stored == 0


def test_the_beat_task_polls_through_the_service(equipment, server, endpoint):
    from django.conf import settings

    from equipment.tasks import poll_opcua

    assert settings.CELERY_BEAT_SCHEDULE["equipment-opcua-poll"]["task"] == "equipment.tasks.poll_opcua"
    outcome = poll_opcua.delay().get()
    assert outcome[endpoint]["ok"] and outcome[endpoint]["stored"] == 8
    assert equipment_latest_reading(equipment=equipment, tag_key="nonexistent") is None
