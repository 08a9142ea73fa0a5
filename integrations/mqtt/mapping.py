"""Equipment messages (MQTT) -> the equipment app's services, as for OPC UA equipment."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

STATE_CODES = {"idle": 0, "running": 1, "fault": 2}


class StatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=list(STATE_CODES), help_text=_("Machine state as the equipment reports it.")
    )
    timestamp = serializers.DateTimeField()
    alarm = serializers.BooleanField(required=False, default=False)
    alarm_code = serializers.IntegerField(required=False, default=None, allow_null=True, min_value=0)


class CountersSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    good = serializers.IntegerField(min_value=0)
    reject = serializers.IntegerField(min_value=0, required=False, default=0)


def _valid(serializer_class, payload) -> dict:
    serializer = serializer_class(data=payload)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _record(payload, by_kind: dict, source_ts) -> dict:
    """Through the equipment app's service, exactly as an OPC UA poll of the same values."""
    from equipment.services.monitoring import machine_values_record

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
    by_kind = {"state": STATE_CODES[data["state"]], "alarm": 1.0 if data["alarm"] else 0.0}
    if data["alarm_code"] is not None:
        by_kind["alarm_code"] = data["alarm_code"]
    return _record(payload, by_kind, data["timestamp"])


def handle_counters(payload, *, message, actor) -> dict:
    data = _valid(CountersSerializer, payload)
    return _record(payload, {"good_count": data["good"], "reject_count": data["reject"]}, data["timestamp"])


INBOUND = {"status": handle_status, "counters": handle_counters}
