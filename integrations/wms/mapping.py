"""WMS messages <-> MES records.

Inbound: material receipts and lot/stock status. Outbound: material requirements and consumption
confirmations.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integrations.services.inbox import Parked


class ReceiptSerializer(serializers.Serializer):
    receipt_id = serializers.CharField(max_length=60)
    material_code = serializers.CharField(max_length=40)
    supplier = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    supplier_lot = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    unit = serializers.CharField(max_length=10)
    location = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    received_at = serializers.DateTimeField()


class StockStatusSerializer(serializers.Serializer):
    lot_number = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0"))
    location = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    status = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


def handle_receipt(payload, *, message, actor) -> dict:
    ReceiptSerializer(data=payload).is_valid(raise_exception=True)
    raise Parked(_("Receipts wait for the materials module (lots and ledger)."))


def handle_stock_status(payload, *, message, actor) -> dict:
    StockStatusSerializer(data=payload).is_valid(raise_exception=True)
    raise Parked(_("Stock status waits for the materials module (lots and ledger)."))


INBOUND = {"receipt": handle_receipt, "stock_status": handle_stock_status}
