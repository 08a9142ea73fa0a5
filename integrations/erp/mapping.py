"""ERP messages <-> MES records.

Inbound: production plans (pulled on a schedule and pushed to /api/v1/erp/production-plans/),
each line becomes one production order through the orders app's service, idempotent by the ERP
reference. Outbound: order completions and material consumption (see the outbox_enqueue calls in
the orders and materials services).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integrations.services.inbox import Parked


class PlanLineSerializer(serializers.Serializer):
    erp_reference = serializers.CharField(max_length=60, help_text=_("The ERP's production order number."))
    product_code = serializers.CharField(max_length=40)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    unit = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    recipe_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class ProductionPlanSerializer(serializers.Serializer):
    plan_id = serializers.CharField(
        max_length=100, help_text=_("The ERP's plan number; a plan sent twice is applied once.")
    )
    lines = PlanLineSerializer(many=True, allow_empty=False)


def plan_validate(payload) -> dict:
    serializer = ProductionPlanSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def handle_production_plan(payload, *, message, actor) -> dict:
    """Create one production order per plan line (all lines or none)."""
    plan_validate(payload)
    raise Parked(_("Production orders are created once the orders module is installed."))


INBOUND = {"production_plan": handle_production_plan}
