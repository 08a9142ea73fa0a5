"""Canonical, hashable representations of records and audit events."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import hmac
import json
import uuid
from typing import Any

from django.db import models


def jsonable(value: Any) -> Any:
    """A JSON-safe value that survives a round trip unchanged (so hashes can be recomputed)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, (uuid.UUID,)):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, models.Model):
        return jsonable(value.pk)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "name") and hasattr(value, "storage"):  # FieldFile
        return value.name or ""
    return str(value)


def canonical_json(value: Any) -> str:
    """Sorted-key, compact JSON text: one byte sequence per value."""
    return json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def format_timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# One encoder for every event hash: json.dumps() with non-default options builds a new encoder per call.
_EVENT_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# The stored columns an event's hash covers, in hashing order (prev_hash last).
EVENT_HASH_FIELDS = (
    "seq",
    "timestamp",
    "actor_id",
    "username",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "old_values",
    "new_values",
    "reason",
    "request_id",
    "ip_address",
    "prev_hash",
)


def event_hash(
    *,
    seq: int,
    timestamp: str,
    actor_id: int | None,
    username: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    old_values: str,
    new_values: str,
    reason: str,
    request_id: str,
    ip_address: str,
    prev_hash: str,
    key_id: str = "",
    key: bytes | None = None,
) -> str:
    """The hash over every stored column of an event, in a fixed order, including the previous hash.

    Keyed (the normal case): HMAC-SHA-256 with the key named `key_id`, which is hashed too. Unkeyed
    (`key_id` empty): plain SHA-256, as events written before the chain was keyed were hashed."""
    fields = (seq, timestamp, actor_id, username, action, object_type, object_id, object_repr, old_values,
              new_values, reason, request_id, ip_address, prev_hash)  # fmt: skip
    return event_hash_of_fields(fields, key_id, key)


def event_hash_of_fields(fields: tuple, key_id: str = "", key: bytes | None = None) -> str:
    """The hash of an event given its EVENT_HASH_FIELDS values in order, the timestamp already
    formatted (`format_timestamp`): the verifier's fast path over raw rows."""
    if not key_id:
        return hashlib.sha256(_EVENT_ENCODER.encode(fields).encode("utf-8")).hexdigest()
    if key is None:
        raise ValueError(f"no key for key id {key_id!r}")
    return hmac.digest(key, _EVENT_ENCODER.encode((*fields, key_id)).encode("utf-8"), "sha256").hex()
