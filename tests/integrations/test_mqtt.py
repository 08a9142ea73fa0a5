"""Equipment over MQTT, against the Mosquitto broker on 127.0.0.1:1883."""

from __future__ import annotations

import uuid

import pytest

from integrations.models import InboxMessage, InboxStatus
from integrations.mqtt.client import EquipmentListener, publish
from integrations.mqtt.services import mqtt_accept

pytestmark = pytest.mark.req("INT-3")


@pytest.fixture
def listener():
    prefix = f"test{uuid.uuid4().hex[:10]}"  # a topic space of our own on the shared broker
    listening = EquipmentListener(prefix=prefix).start()
    yield listening
    listening.stop()


def _receive(listener):
    received = listener.get(timeout=10)
    assert received is not None, "nothing arrived from the broker"
    return received


@pytest.fixture
def press(db):
    """A tablet press monitored like an OPC UA machine: state, alarm, alarm code and counters."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from audit.context import audit_context
    from equipment.models import Equipment, EquipmentClass, EquipmentTag
    from equipment.services.monitoring import forget_memory
    from mes.models import Line
    from mes.seed import seed_plant

    forget_memory()
    seed_plant()
    today = timezone.localdate()
    with audit_context(action="test.setup"):
        cls, _ = EquipmentClass.objects.get_or_create(code="TPRS", defaults={"name": "Rotary tablet press"})
        eq = Equipment.objects.create(
            code="TPRS-01",
            name="Tablet press 1",
            equipment_class=cls,
            line=Line.objects.get(code="L1"),
            cleaned_at=timezone.now(),
            calibration_interval_days=180,
            last_calibrated_on=today - dt.timedelta(days=3),
            calibration_due_on=today + dt.timedelta(days=170),
            qualified_on=today - dt.timedelta(days=90),
            ideal_rate_per_min=Decimal("100"),
        )
        for key in ("state", "alarm", "alarm_code", "good_count", "reject_count"):
            EquipmentTag.objects.create(equipment=eq, key=key, node_id=f"mqtt:{key}", kind=key)
    yield eq
    forget_memory()


def test_status_and_counters_go_through_the_equipment_service_once(press, listener):
    from equipment.models import EquipmentLive, FaultReport, TagReading

    status = {"state": "running", "timestamp": "2026-03-01T08:00:00Z"}
    publish(f"{listener.prefix}/equipment/TPRS-01/status", status)
    publish(f"{listener.prefix}/equipment/TPRS-01/status", status)  # a redelivery of the same reading
    publish(f"{listener.prefix}/equipment/TPRS-01/counters", {"timestamp": "2026-03-01T08:01:00Z", "good": 1200})
    alarm = {"state": "fault", "alarm": True, "alarm_code": 17, "timestamp": "2026-03-01T08:02:00Z"}
    publish(f"{listener.prefix}/equipment/TPRS-01/status", alarm)
    messages = [mqtt_accept(_receive(listener)) for _ in range(4)]
    assert messages[0].pk == messages[1].pk  # same equipment stamp: one inbox message
    assert InboxMessage.objects.filter(system="equipment").count() == 3
    assert {m.status for m in messages} == {InboxStatus.PROCESSED}
    live = EquipmentLive.objects.get(equipment=press)
    assert live.machine_state == "fault" and live.alarm_active and live.alarm_code == "17"
    assert FaultReport.objects.filter(equipment=press).count() == 1  # the alarm's rising edge, once
    good = TagReading.objects.filter(tag__equipment=press, tag__key="good_count").get()
    assert good.value == 1200


def test_unknown_equipment_is_refused_and_kept(db, listener):
    publish(f"{listener.prefix}/equipment/NOPE-9/status", {"state": "idle", "timestamp": "2026-03-01T08:00:00Z"})
    message = mqtt_accept(_receive(listener))
    assert message.status == InboxStatus.FAILED and "equipment" in message.result["errors"]


def test_malformed_equipment_message_is_stored_as_failed(db, listener):
    publish(f"{listener.prefix}/equipment/GRAN-01/counters", {"timestamp": "yesterday", "good": -3})
    message = mqtt_accept(_receive(listener))
    assert message.status == InboxStatus.FAILED
    assert "good" in message.result["errors"] and "timestamp" in message.result["errors"]


def test_other_topics_are_ignored(db, listener):
    publish(f"{listener.prefix}/equipment/GRAN-01/secret", {"x": 1})
    publish(f"{listener.prefix}/other/GRAN-01/status", {"x": 1})
    assert listener.get(timeout=1) is None


def test_equipment_status_api_shows_what_mqtt_reported(press, listener, client_for, users):
    publish(f"{listener.prefix}/equipment/TPRS-01/status", {"state": "running", "timestamp": "2026-03-01T09:00:00Z"})
    mqtt_accept(_receive(listener))
    body = client_for("planner").get("/api/v1/equipment/TPRS-01/").json()
    assert body["machine_state"] == "running" and body["link"] == "ok" and body["equipment_class"] == "TPRS"
    assert isinstance(body["usable"], bool) and isinstance(body["reasons"], list)
    listing = client_for("operator").get("/api/v1/equipment/?line=L1").json()
    assert [e["code"] for e in listing["results"]] == ["TPRS-01"]


def test_the_machine_s_own_words_go_through_its_class_mapping_and_reach_the_board(press, listener, client_for):
    """'Running' (capitalised) is accepted; Fault from MQTT drives the fault flow like OPC UA."""
    from equipment.models import EquipmentLive, FaultReport
    from equipment.services import equipment_check_usable

    publish(f"{listener.prefix}/equipment/TPRS-01/status", {"state": "Running", "timestamp": "2026-03-01T08:00:00Z"})
    assert mqtt_accept(_receive(listener)).status == InboxStatus.PROCESSED
    assert EquipmentLive.objects.get(equipment=press).machine_state == "running"
    board = client_for("operator").get("/equipment/").content.decode()
    assert "Machine: Running" in board

    publish(f"{listener.prefix}/equipment/TPRS-01/status", {"state": "FAULT", "timestamp": "2026-03-01T08:05:00Z"})
    assert mqtt_accept(_receive(listener)).status == InboxStatus.PROCESSED
    assert FaultReport.objects.filter(equipment=press, source="alarm").count() == 1
    assert not equipment_check_usable(equipment=press).ok


def test_a_stamp_without_offset_is_refused_with_its_reason_not_guessed(press, listener):
    from equipment.models import TagReading

    publish(f"{listener.prefix}/equipment/TPRS-01/counters", {"timestamp": "2026-03-01T08:01:00", "good": 5})
    message = mqtt_accept(_receive(listener))
    assert message.status == InboxStatus.FAILED
    assert "no offset from UTC" in str(message.result["errors"]["timestamp"])
    assert not TagReading.objects.filter(tag__equipment=press).exists()


def test_a_stamp_from_a_clock_ahead_is_stored_flagged_and_hides_no_later_message(press, listener):
    import datetime as dt

    from django.utils import timezone

    from equipment.models import CaptureAlert, TagReading

    ahead = (timezone.now() + dt.timedelta(minutes=24)).isoformat()
    now = timezone.now().isoformat()
    publish(f"{listener.prefix}/equipment/TPRS-01/counters", {"timestamp": ahead, "good": 100})
    publish(f"{listener.prefix}/equipment/TPRS-01/counters", {"timestamp": now, "good": 130})
    first, second = (mqtt_accept(_receive(listener)) for _ in range(2))
    assert first.result["stored"] == 2 and second.result["stored"] == 1  # good and reject, then good
    good = list(TagReading.objects.filter(tag__equipment=press, tag__key="good_count").order_by("id"))
    assert [(r.value, r.clock_suspect) for r in good] == [(100, True), (130, False)]
    assert CaptureAlert.objects.filter(equipment=press, kind="clock").count() == 1
