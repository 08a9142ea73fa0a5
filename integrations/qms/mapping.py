"""QMS messages <-> MES records. Outbound: deviations and quality events. Inbound: CAPA decisions."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integrations.services.inbox import Parked


class CapaDecisionSerializer(serializers.Serializer):
    deviation_reference = serializers.CharField(max_length=60)
    capa_reference = serializers.CharField(max_length=60)
    decision = serializers.ChoiceField(choices=["approved", "rejected", "closed"])
    actions = serializers.ListField(child=serializers.CharField(max_length=500), required=False, default=list)
    decided_by = serializers.CharField(max_length=150)
    decided_at = serializers.DateTimeField()
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def handle_capa_decision(payload, *, message, actor) -> dict:
    serializer = CapaDecisionSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    # PENDING: deviations and CAPA live in the quality app, not installed yet; replay applies it.
    raise Parked(_("CAPA decisions wait for the quality module (deviations and CAPA)."))


INBOUND = {"capa_decision": handle_capa_decision}
