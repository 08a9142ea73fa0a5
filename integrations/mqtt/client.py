"""MQTT client (paho-mqtt): the only code that talks to the broker. Messages are handed to the
caller's thread through a queue, so all database work happens outside paho's network thread."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from django.conf import settings
from rest_framework.exceptions import ParseError

from integrations.api.parsers import strict_json_loads
from integrations.transport import NotConfigured

KINDS = ("status", "counters")


@dataclass(frozen=True)
class Received:
    topic: str
    equipment: str
    kind: str
    payload: object  # parsed JSON, or None when not JSON
    raw: str


def parse_topic(topic: str, prefix: str) -> tuple[str, str] | None:
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != prefix or parts[1] != "equipment" or parts[3] not in KINDS:
        return None
    return parts[2], parts[3]


class EquipmentListener:
    """Subscribes to the equipment topics; `get()` returns the next message (or None on time-out)."""

    def __init__(self, *, prefix: str | None = None, client_id: str = ""):
        conf = settings.MES_MQTT
        self.prefix = prefix or conf["topic_prefix"]
        self.host, self.port = conf["host"], conf["port"]
        self.queue: queue.Queue[Received] = queue.Queue()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not client_id)
        if conf.get("username"):
            self.client.username_pw_set(conf["username"], conf.get("password") or None)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            # QoS 1: the broker redelivers until we acknowledge; duplicates are caught by the inbox.
            client.subscribe([(f"{self.prefix}/equipment/+/{kind}", 1) for kind in KINDS])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        # Ready only once the broker has confirmed the subscription: before that, readings are lost.
        self.connected.set()

    def _on_message(self, client, userdata, message):
        parsed = parse_topic(message.topic, self.prefix)
        if parsed is None:
            return
        raw = message.payload.decode("utf-8", "replace")
        try:
            # Strict: NaN, 1e999, lone surrogates or deep nesting would not even be storable.
            payload = strict_json_loads(message.payload)
        except ParseError:
            payload = None
        self.queue.put(Received(message.topic, parsed[0], parsed[1], payload, raw))

    def start(self, timeout: float = 10.0) -> EquipmentListener:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            raise ConnectionError(f"MQTT broker {self.host}:{self.port} did not accept the connection")
        return self

    def get(self, timeout: float = 1.0) -> Received | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def publish(topic: str, payload: dict, *, qos: int = 1) -> None:
    """Publish one message and wait until the broker has it (demo tools and tests)."""
    conf = settings.MES_MQTT
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(conf["host"], conf["port"])
    client.loop_start()
    try:
        client.publish(topic, json.dumps(payload), qos=qos).wait_for_publish(timeout=10)
    finally:
        client.loop_stop()
        client.disconnect()


def session():
    """Outbound messages to equipment are not sent over MQTT (commands stay on the HMI)."""
    raise NotConfigured("equipment receives no outbox messages")


def deliver(session, message) -> None:  # pragma: no cover - session() refuses first
    raise NotImplementedError
