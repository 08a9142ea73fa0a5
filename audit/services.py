"""Writing the audit trail: one service appends an event to the hash chain."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from audit.canonical import canonical_json, event_hash, format_timestamp
from audit.context import current_actor, current_audit_context, current_request
from audit.models import AuditEvent, ChainHead

SYSTEM_USERNAME = "system"


def object_label(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    old: dict | None = None,
    new: dict | None = None,
    reason: str = "",
    username: str = "",
) -> AuditEvent:
    """Append one event to the audit trail, in the caller's transaction.

    The chain head row is locked (SELECT ... FOR UPDATE; an IMMEDIATE transaction on SQLite) so
    positions and previous hashes are assigned one at a time, whatever the concurrency.
    """
    if actor is None:
        actor = current_actor()
    ctx = current_audit_context()
    if not reason and ctx is not None:
        reason = ctx.reason
    if obj is not None:
        object_type = object_type or object_label(obj)
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    info = current_request()
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    username = username or (actor.get_username() if actor_id else SYSTEM_USERNAME)
    fields = {
        "actor_id": actor_id,
        "username": username[:150],
        "action": action[:80],
        "object_type": object_type[:100],
        "object_id": str(object_id)[:64],
        "object_repr": object_repr[:255],
        "old_values": canonical_json(old) if old else "",
        "new_values": canonical_json(new) if new else "",
        "reason": reason or "",
        "request_id": info.request_id if info else "",
        "ip_address": info.ip_address if info else "",
    }
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        now = timezone.now()
        seq = head.seq + 1
        digest = event_hash(seq=seq, timestamp=format_timestamp(now), prev_hash=head.hash, **fields)
        event = AuditEvent.objects.create(seq=seq, timestamp=now, prev_hash=head.hash, hash=digest, **fields)
        ChainHead.objects.filter(pk=1).update(seq=seq, hash=digest)
    return event
