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


def test_status_and_counters_arrive_through_the_inbox_once(db, listener):
    status = {"state": "running", "timestamp": "2026-03-01T08:00:00Z"}
    publish(f"{listener.prefix}/equipment/TPRS-01/status", status)
    publish(f"{listener.prefix}/equipment/TPRS-01/status", status)  # a redelivery of the same reading
    publish(f"{listener.prefix}/equipment/TPRS-01/counters", {"timestamp": "2026-03-01T08:01:00Z", "good": 1200})
    messages = [mqtt_accept(_receive(listener)) for _ in range(3)]
    assert messages[0].pk == messages[1].pk  # same equipment stamp: one inbox message
    assert InboxMessage.objects.filter(system="equipment").count() == 2
    status_message = InboxMessage.objects.get(kind="status")
    assert status_message.payload["equipment"] == "TPRS-01"
    # The equipment module is not installed yet: valid readings wait (parked), visible and replayable.
    assert status_message.status == InboxStatus.PARKED


def test_malformed_equipment_message_is_stored_as_failed(db, listener):
    publish(f"{listener.prefix}/equipment/GRAN-01/counters", {"timestamp": "yesterday", "good": -3})
    message = mqtt_accept(_receive(listener))
    assert message.status == InboxStatus.FAILED
    assert "good" in message.result["errors"] and "timestamp" in message.result["errors"]


def test_other_topics_are_ignored(db, listener):
    publish(f"{listener.prefix}/equipment/GRAN-01/secret", {"x": 1})
    publish(f"{listener.prefix}/other/GRAN-01/status", {"x": 1})
    assert listener.get(timeout=1) is None
