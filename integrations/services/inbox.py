"""The inbox: messages from external systems are stored first, then processed once.

- `inbox_receive` commits the message (even a malformed one, as raw text) before anything is
  done with it, so nothing received is ever lost; (system, kind, message_id) is unique, so a
  message delivered twice is processed once (an idempotency key is scoped by system and kind).
- `inbox_process` runs the kind's handler (integrations/<system>/mapping.py INBOUND) in one
  transaction: the business change happens completely or not at all. A message that fails for any
  reason (refused, not permitted, or an unexpected error) is marked failed with the error in words;
  a message whose MES module does not exist yet is parked. Both stay visible on the message log
  and System status pages, and an administrator can replay them once the cause is fixed (audited;
  the business change is still attributed to the sending system's account, not to the administrator).
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError as ApiValidationError

from audit.context import audit_context
from audit.services import audit_record
from integrations.adapters import adapter
from integrations.models import InboxMessage, InboxStatus, System
from integrations.services.accounts import inbound_actor

logger = logging.getLogger("integrations.inbox")
REPLAY_PERMISSION = "integrations.replay_message"


class Parked(Exception):  # noqa: N818 - a state, not an error
    """The message is valid but the part of the MES that applies it is not installed yet."""


def error_detail(exc: Exception):
    """A JSON-able description of why a message was refused (field -> messages where known), in
    English: the stored refusal is one text for every reader, shown in each one's language
    (mes.generated.localized_errors), and an API answer is localized when it is sent."""
    with translation.override("en"):
        return _error_detail(exc)


def _error_detail(exc: Exception):
    if isinstance(exc, ApiValidationError):
        return json.loads(json.dumps(exc.detail, default=str))  # lazy texts evaluated now, in English
    if isinstance(exc, ValidationError):
        return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    if isinstance(exc, PermissionDenied):
        return {"non_field_errors": [str(exc) or _("The sending system's account may not do this.")]}
    text = str(exc) or exc.__class__.__name__
    return {"non_field_errors": [_("Processing failed: %(error)s") % {"error": text}]}


def _as_text(detail) -> str:
    return json.dumps(detail, ensure_ascii=False, default=str)[:4000]


def inbox_receive(
    *, system: str, kind: str, message_id: str, payload=None, raw: str = "", actor=None
) -> tuple[InboxMessage, bool]:
    """Store one received message (committed at once); returns (message, created)."""
    if system not in System.values:
        raise ValueError(f"unknown system {system!r}")
    message_id = (message_id or "").strip()[:120]
    if not message_id:
        raise ValidationError({"message_id": [_("Every message needs a message id.")]})
    existing = InboxMessage.objects.filter(system=system, kind=kind, message_id=message_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            message = InboxMessage.objects.create(
                system=system,
                kind=kind,
                message_id=message_id,
                payload=payload,
                raw=raw[:1_000_000],
                received_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:  # the same message arriving twice at the same moment
        return InboxMessage.objects.get(system=system, kind=kind, message_id=message_id), False
    return message, True


def _handler(system: str, kind: str):
    try:
        return adapter(system).mapping.INBOUND[kind]
    except KeyError:
        raise ValidationError(
            _("%(system)s messages of kind “%(kind)s” are not accepted.") % {"system": system.upper(), "kind": kind}
        ) from None


def inbox_process(*, message_id: int, actor=None) -> InboxMessage:
    """Apply one stored message through its handler, exactly once."""
    with transaction.atomic():
        message = InboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status == InboxStatus.PROCESSED:
            return message
        message.attempts += 1
        try:
            # Whatever the language of the request that delivered it: what the handler stores
            # (reasons, generated texts) and the refusal kept with the message are written in English.
            with translation.override("en"):
                if message.payload is None:
                    raise ValidationError(_("The message is not valid JSON."))
                handler = _handler(message.system, message.kind)
                with (
                    transaction.atomic(),
                    audit_context(actor=actor, action=f"integrations.inbox.{message.system}.{message.kind}"),
                ):
                    result = handler(message.payload, message=message, actor=actor)
        except Parked as exc:
            with translation.override("en"):
                parked = str(exc)
            message.status, message.last_error, message.result = InboxStatus.PARKED, parked, None
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the message must say so, not stay "received"
            if not isinstance(exc, (ValidationError, ApiValidationError, PermissionDenied)):
                logger.exception("inbox message %s (%s/%s) failed", message.pk, message.system, message.kind)
            detail = error_detail(exc)
            message.status, message.last_error, message.result = (
                InboxStatus.FAILED,
                _as_text(detail),
                {"errors": detail},
            )
        else:
            message.status, message.last_error, message.result = InboxStatus.PROCESSED, "", result
            message.processed_at = timezone.now()
        message.save()
    return message


def inbox_fail(*, message_id: int, error: Exception) -> InboxMessage:
    """Mark a stored message failed without processing (it could not even be read)."""
    detail = error_detail(error)
    with transaction.atomic():
        message = InboxMessage.objects.select_for_update().get(pk=message_id)
        message.attempts += 1
        message.status, message.last_error, message.result = InboxStatus.FAILED, _as_text(detail), {"errors": detail}
        message.save()
    return message


def inbox_accept(*, system: str, kind: str, message_id: str, payload=None, raw: str = "", actor=None) -> InboxMessage:
    """Receive and process: what push endpoints, pulls and MQTT use."""
    message, created = inbox_receive(
        system=system, kind=kind, message_id=message_id, payload=payload, raw=raw, actor=actor
    )
    if created:
        message = inbox_process(message_id=message.pk, actor=actor)
    return message


REPLAYABLE = (InboxStatus.FAILED, InboxStatus.PARKED, InboxStatus.RECEIVED)


def inbox_replay(*, actor, message_id: int, reason: str = "") -> InboxMessage:
    """Process a failed, parked or never-processed message again (after its cause was fixed).

    The replay is the administrator's (audited as theirs); the business change it makes is still
    the sending system's, so it is processed as that system's integration account."""
    if not actor.has_perm(REPLAY_PERMISSION):
        raise PermissionDenied(_("You may not replay integration messages."))
    message = InboxMessage.objects.get(pk=message_id)
    if message.status not in REPLAYABLE:
        raise ValidationError(
            _("Only failed or waiting messages can be replayed; this message is %(status)s.")
            % {"status": message.get_status_display()}
        )
    with transaction.atomic():
        audit_record(
            action="integrations.inbox.replay",
            actor=actor,
            obj=message,
            old={"status": message.status, "last_error": message.last_error[:500]},
            reason=reason,
        )
    return inbox_process(message_id=message.pk, actor=inbound_actor(message))
