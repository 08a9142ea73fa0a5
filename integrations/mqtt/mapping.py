"""Equipment messages (MQTT) -> the equipment app's services, as for OPC UA equipment."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from equipment.services.monitoring import machine_values_record

OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


class StampField(serializers.DateTimeField):
    """The equipment's own time stamp, which must say its offset from UTC ("Z" or "+08:00"): a
    stamp without one is refused with a reason, never guessed as plant time."""

    def to_internal_value(self, value):
        if isinstance(value, str) and value.strip() and not OFFSET.search(value.strip()):
            raise serializers.ValidationError(
                _("The time stamp “%(value)s” has no offset from UTC; send it as 2026-03-01T08:00:00Z or with +08:00.")
                % {"value": value[:40]}
            )
        return super().to_internal_value(value)


class StatusSerializer(serializers.Serializer):
    # the equipment's own word or code; its class's state mapping says what it means (any case)
    state = serializers.CharField(max_length=60, help_text=_("Machine state as the equipment reports it."))
    timestamp = StampField()
    alarm = serializers.BooleanField(required=False, default=False)
    alarm_code = serializers.IntegerField(required=False, default=None, allow_null=True, min_value=0)


class CountersSerializer(serializers.Serializer):
    timestamp = StampField()
    good = serializers.IntegerField(min_value=0)
    reject = serializers.IntegerField(min_value=0, required=False, default=0)


def _valid(serializer_class, payload) -> dict:
    serializer = serializer_class(data=payload)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _record(payload, by_kind: dict, source_ts) -> dict:
    """Through the equipment app's service, exactly as an OPC UA poll of the same values."""
    code = payload.get("equipment", "")
    try:
        result = machine_values_record(equipment_code=code, by_kind=by_kind, source_ts=source_ts)
    except LookupError:
        raise ValidationError(
            {"equipment": [_("Equipment %(code)s is unknown or has no active tag for these values.") % {"code": code}]}
        ) from None
    return {"stored": result.stored, "faults": result.faults}


def handle_status(payload, *, message, actor) -> dict:
    data = _valid(StatusSerializer, payload)
    by_kind = {"state": data["state"].strip(), "alarm": data["alarm"]}
    if data["alarm_code"] is not None:
        by_kind["alarm_code"] = data["alarm_code"]
    return _record(payload, by_kind, data["timestamp"])


def handle_counters(payload, *, message, actor) -> dict:
    data = _valid(CountersSerializer, payload)
    return _record(payload, {"good_count": data["good"], "reject_count": data["reject"]}, data["timestamp"])


INBOUND = {"status": handle_status, "counters": handle_counters}
