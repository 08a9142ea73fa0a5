"""WMS messages <-> MES records.

Inbound: material receipts and lot/stock status. Outbound: material requirements and consumption
confirmations.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from materials.models import Location, Lot, Material
from materials.services import lot_receive, on_hand


class ReceiptSerializer(serializers.Serializer):
    receipt_id = serializers.CharField(max_length=60)
    material_code = serializers.CharField(max_length=40)
    supplier = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    supplier_lot = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    unit = serializers.CharField(max_length=10)
    containers = serializers.IntegerField(required=False, default=1, min_value=1, max_value=999)
    location = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    received_at = serializers.DateTimeField()


class StockStatusSerializer(serializers.Serializer):
    lot_number = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0"))
    location = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    status = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


def handle_receipt(payload, *, message, actor) -> dict:
    """A goods receipt in the WMS becomes a quarantined lot with its receipt entry (materials service)."""

    data = _valid(ReceiptSerializer, payload)
    reference = f"WMS {data['receipt_id']}"
    existing = Lot.objects.filter(reference=reference).first()
    if existing is not None:  # the same receipt under another message id
        return {"lot": existing.code, "created": False}
    material = Material.objects.filter(code=data["material_code"]).first()
    if material is None:
        raise ValidationError({"material_code": [_("Unknown material.")]})
    location = Location.objects.filter(code=data["location"]).first() if data["location"] else None
    if location is None:
        raise ValidationError({"location": [_("Unknown storage location.")]})
    lot = lot_receive(
        user=actor,
        material=material,
        quantity=data["quantity"],
        unit=data["unit"],
        location=location,
        supplier=data["supplier"],
        supplier_lot=data["supplier_lot"],
        expiry_date=data["expiry_date"],
        containers=data["containers"],
        reference=reference,
    )
    return {"lot": lot.code, "created": True}


def handle_stock_status(payload, *, message, actor) -> dict:
    """The WMS's view of a lot's stock, compared with the MES ledger. The ledger is the GMP record,
    so nothing is changed: a difference is reported in the message result for the warehouse."""

    data = _valid(StockStatusSerializer, payload)
    lot = Lot.objects.filter(code=data["lot_number"]).first()
    if lot is None:
        raise ValidationError({"lot_number": [_("Unknown lot.")]})
    mes_quantity = on_hand(lot)
    difference = data["quantity"] - mes_quantity
    return {
        "lot": lot.code,
        "mes_quantity": str(mes_quantity),
        "wms_quantity": str(data["quantity"]),
        "difference": str(difference),
        "matches": difference == 0,
        "mes_status": lot.status,
    }


def _valid(serializer_class, payload) -> dict:
    serializer = serializer_class(data=payload)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


INBOUND = {"receipt": handle_receipt, "stock_status": handle_stock_status}


# --- outbound --------------------------------------------------------------------------------
def material_requirement_payload(order) -> dict:
    """What the released order needs from the warehouse: the recipe's BOM scaled to the order."""
    recipe = order.recipe
    factor = order.planned_quantity / recipe.batch_size if recipe and recipe.batch_size else Decimal(0)
    lines = [
        {
            "material_code": line.material.code,
            "quantity": str((line.quantity * factor).quantize(Decimal("0.001"))),
            "unit": line.unit,
        }
        for line in (recipe.bom_lines.select_related("material").order_by("position") if recipe else [])
    ]
    return {
        "order": order.number,
        "erp_reference": order.erp_reference,
        "line": order.line.code if order.line_id else "",
        "needed_from": order.planned_start.isoformat(),
        "lines": lines,
    }


def lot_status_payload(lot) -> dict:
    return {"lot": lot.code, "material_code": lot.material.code, "status": lot.status, "supplier_lot": lot.supplier_lot}
