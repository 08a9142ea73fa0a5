"""ERP messages <-> MES records.

Inbound: production plans (pulled on a schedule and pushed to /api/v1/erp/production-plans/),
each line becomes one production order through the orders app's service, idempotent by the ERP
reference. Outbound: order completions and material consumption (see the outbox_enqueue calls in
the orders and materials services).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integrations.b2mml.performance import batch_to_performance
from mes.generated import GeneratedText
from mes.models import Line
from orders.models import Priority
from orders.services.orders import order_create_from_plan, order_update

ERP_PLAN_REASON = GeneratedText(gettext_noop("ERP plan %(plan)s, revision %(rev)s"))


class PlanLineSerializer(serializers.Serializer):
    erp_reference = serializers.CharField(max_length=60, help_text=_("The ERP's production order number."))
    product_code = serializers.CharField(max_length=40)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    unit = serializers.CharField(max_length=10)
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    line_code = serializers.CharField(max_length=40)
    priority = serializers.IntegerField(required=False, default=None, allow_null=True)


class ProductionPlanSerializer(serializers.Serializer):
    plan_id = serializers.CharField(
        max_length=100, help_text=_("The ERP's plan number; a plan sent twice is applied once.")
    )
    revision = serializers.IntegerField(required=False, default=0, min_value=0)
    lines = PlanLineSerializer(many=True, allow_empty=False)


def plan_validate(payload) -> dict:
    serializer = ProductionPlanSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def handle_production_plan(payload, *, message, actor) -> dict:
    """One production order per plan line, through the orders service (idempotent by ERP
    reference). A line for an ERP reference the MES already has is a revision: the order is amended
    before release (order_update: recorded, an approved order goes back for approval) and refused
    with the reason after. The inbox runs this in one transaction: the whole plan applies, or none."""

    plan = plan_validate(payload)
    if actor is None:
        raise PermissionDenied(
            gettext(
                "The ERP has no active integration account, so its plan cannot be applied. "
                "Re-activate the ERP link account, then replay this message."
            )
        )
    orders = []
    for index, line in enumerate(plan["lines"]):
        try:
            order, created = order_create_from_plan(
                user=actor,
                erp_reference=line["erp_reference"],
                product_code=line["product_code"],
                planned_quantity=line["quantity"],
                unit=line["unit"],
                planned_start=line["planned_start"],
                planned_end=line["planned_end"],
                line_code=line["line_code"],
                priority=line["priority"] if line["priority"] is not None else Priority.NORMAL,
            )
            changes = {} if created else plan_line_revise(order=order, line=line, plan=plan, actor=actor)
        except ValidationError as exc:
            # Name the plan line, so the ERP knows which of its orders was refused.
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            raise ValidationError({f"lines.{index}.{k}": v for k, v in detail.items()}) from None
        action = "created" if created else ("amended" if changes else "unchanged")
        orders.append(
            {
                "erp_reference": line["erp_reference"],
                "order": order.number,
                "created": created,
                "action": action,
                **({"changes": changes} if changes else {}),
            }
        )
    return {"orders": orders}


def plan_line_revise(*, order, line: dict, plan: dict, actor) -> dict:
    """A plan line for an order the MES has: apply what changed through the order amendment rule.

    Returns the changes applied ({} when the line matches the order). Before release the orders
    service amends the order (with the ERP plan and revision as the reason; an approved order goes
    back for approval); in any later state it refuses, and the refusal names the order and its state."""

    wanted = {
        "planned_quantity": Decimal(str(line["quantity"])).quantize(Decimal("0.001")),
        "unit": line["unit"],
        "planned_start": line["planned_start"],
        "planned_end": line["planned_end"],
    }
    if line["priority"] is not None:
        wanted["priority"] = line["priority"]
    changes = {k: v for k, v in wanted.items() if getattr(order, k) != v}
    if order.line is None or order.line.code != line["line_code"]:
        new_line = Line.objects.filter(code=line["line_code"]).first()
        if new_line is None:
            raise ValidationError({"line": gettext("Unknown production line %(code)s.") % {"code": line["line_code"]}})
        changes["line"] = new_line
    if order.product.code != line["product_code"]:
        raise ValidationError(
            {
                "product_code": gettext(
                    "Order %(n)s (ERP %(ref)s) is for %(old)s; the product of an order cannot be changed."
                )
                % {"n": order.number, "ref": order.erp_reference, "old": order.product.code}
            }
        )
    if not changes:
        return {}
    reason = ERP_PLAN_REASON % {"plan": plan["plan_id"], "rev": plan["revision"]}
    try:
        order_update(user=actor, order_id=order.pk, reason=reason, **changes)
    except ValidationError as exc:
        raise ValidationError(
            {
                "erp_reference": gettext("The ERP's change to order %(n)s (%(fields)s) is refused: %(why)s")
                % {"n": order.number, "fields": ", ".join(sorted(changes)), "why": " ".join(exc.messages)}
            }
        ) from None
    return {k: (getattr(v, "code", None) or str(v)) for k, v in changes.items()}


INBOUND = {"production_plan": handle_production_plan}


# --- outbound --------------------------------------------------------------------------------
def order_completed_payload(order) -> dict:
    """What the ERP needs when an order is finished: the made quantity per batch."""
    batches = [
        {"batch": b.number, "planned_quantity": str(b.planned_quantity), "unit": b.unit, "status": b.status}
        for b in order.batches.order_by("sequence", "id")
    ]
    return {
        "order": order.number,
        "erp_reference": order.erp_reference,
        "product_code": order.product.code,
        "planned_quantity": str(order.planned_quantity),
        "unit": order.unit,
        "batches": batches,
    }


def material_consumed_payload(entry) -> dict:
    """One issue of a lot to a batch (ledger entry), for the ERP's goods issue."""
    return {
        "ledger_entry": entry.pk,
        "batch": entry.batch.number if entry.batch_id else "",
        "order": entry.batch.order.number if entry.batch_id and entry.batch.order_id else "",
        "erp_reference": entry.batch.order.erp_reference if entry.batch_id and entry.batch.order_id else "",
        "material_code": entry.lot.material.code,
        "lot": entry.lot.code,
        "quantity": str(entry.quantity),
        "unit": entry.lot.unit,
    }


def performance_payload(batch) -> dict:
    """A closed batch's B2MML V0700 OperationsPerformance document, in the outbox message envelope."""
    return {
        "batch": batch.number,
        "order": batch.order.number if batch.order_id else "",
        "erp_reference": batch.order.erp_reference if batch.order_id else "",
        "status": batch.status,
        "format": "B2MML V0700 OperationsPerformance",
        "content_type": "application/xml",
        "document": batch_to_performance(batch).decode(),
    }


def batch_released_payload(release) -> dict:
    """Quality's production release of a batch: its lot is free for stock and shipping."""
    return {
        "batch": release.batch.number,
        "lot": release.lot.code,
        "material": release.lot.material.code,
        "quantity": str(release.lot.quantity_received),
        "unit": release.lot.unit,
        "released_at": release.released_at.isoformat() if release.released_at else None,
    }
