"""From a received MQTT message to the inbox (stored first, processed once)."""

from __future__ import annotations

import hashlib

from integrations.models import InboxMessage
from integrations.services.inbox import inbox_accept


def mqtt_message_id(received) -> str:
    """The equipment's own stamp identifies a reading; a broker redelivery is the same message."""
    stamp = received.payload.get("timestamp") if isinstance(received.payload, dict) else None
    if isinstance(stamp, str) and stamp.strip():
        return f"{received.topic}@{stamp.strip()}"[:120]
    return f"{received.topic}#" + hashlib.sha256(received.raw.encode()).hexdigest()[:40]


def mqtt_accept(received) -> InboxMessage:
    payload = received.payload
    if isinstance(payload, dict):
        payload = {**payload, "equipment": received.equipment}
    return inbox_accept(
        system="equipment",
        kind=received.kind,
        message_id=mqtt_message_id(received),
        payload=payload,
        raw=received.raw.replace("\x00", "\ufffd"),
    )
