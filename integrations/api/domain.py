"""Read endpoints for the records other systems need: orders, production plans, batches, lots and
their movements. Each checks the same permission as the page that shows the record, reads with
select_related (no N+1) and is audited like every API call."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.views import APIView

from batches.models import Batch
from equipment.services.status import usability_evaluate, usability_queryset
from integrations.api.base import AuditedMixin
from integrations.api.serializers import ErrorSerializer
from integrations.b2mml.batchml import batch_to_batchml
from integrations.b2mml.performance import batch_to_performance
from integrations.models import InboxMessage
from materials.models import LedgerEntry, Lot, StockBalance
from orders.models import ProductionOrder

ORDER_VIEW = "orders.view_productionorder"
LOT_VIEW = "materials.view_lot"
# Batches have no page of their own yet (batch execution is another issue): who may read an order
# may read its batches, until the batches app declares its view permission.
BATCH_VIEW = ORDER_VIEW
NOT_FOUND = {403: ErrorSerializer, 404: ErrorSerializer}


# --- serializers -----------------------------------------------------------------------------
class OrderSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code")
    line_code = serializers.CharField(source="line.code")
    recipe = serializers.SerializerMethodField()

    class Meta:
        model = ProductionOrder
        fields = [
            "number",
            "status",
            "erp_reference",
            "product_code",
            "recipe",
            "planned_quantity",
            "unit",
            "planned_start",
            "planned_end",
            "line_code",
            "priority",
            "revision",
            "created_at",
        ]

    def get_recipe(self, order) -> str:
        return str(order.recipe) if order.recipe_id else ""


class BatchSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code")
    order = serializers.SerializerMethodField()
    line_code = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "number",
            "status",
            "product_code",
            "order",
            "sequence",
            "planned_quantity",
            "unit",
            "line_code",
            "created_at",
        ]

    def get_order(self, batch) -> str:
        return batch.order.number if batch.order_id else ""

    def get_line_code(self, batch) -> str:
        return batch.line.code if batch.line_id else ""


class StockSerializer(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code")

    class Meta:
        model = StockBalance
        fields = ["location", "quantity"]


class LotSerializer(serializers.ModelSerializer):
    material_code = serializers.CharField(source="material.code")

    class Meta:
        model = Lot
        fields = [
            "code",
            "material_code",
            "status",
            "supplier",
            "supplier_lot",
            "quantity_received",
            "unit",
            "containers",
            "manufacture_date",
            "expiry_date",
            "retest_date",
            "received_at",
        ]


class LotDetailSerializer(LotSerializer):
    stock = serializers.SerializerMethodField()

    class Meta(LotSerializer.Meta):
        fields = [*LotSerializer.Meta.fields, "stock"]

    @extend_schema_field(StockSerializer(many=True))
    def get_stock(self, lot) -> list[dict]:
        return StockSerializer([b for b in lot.balances.all() if b.quantity], many=True).data


class MovementSerializer(serializers.ModelSerializer):
    lot = serializers.CharField(source="lot.code")
    location = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor.username", default="")

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "entry_type",
            "lot",
            "location",
            "batch",
            "quantity",
            "delta",
            "unit",
            "actor",
            "reason",
            "created_at",
        ]

    def get_location(self, entry) -> str:
        return entry.location.code if entry.location_id else ""

    def get_batch(self, entry) -> str:
        return entry.batch.number if entry.batch_id else ""


class PlanSerializer(serializers.ModelSerializer):
    plan_id = serializers.SerializerMethodField()

    class Meta:
        model = InboxMessage
        fields = ["id", "message_id", "plan_id", "status", "last_error", "result", "received_at", "processed_at"]

    def get_plan_id(self, message) -> str:
        payload = message.payload if isinstance(message.payload, dict) else {}
        return str(payload.get("plan_id", ""))[:100]


# --- views -----------------------------------------------------------------------------------
def _filters(qs, params, allowed: dict):
    for param, lookup in allowed.items():
        value = params.get(param)
        if value:
            qs = qs.filter(**{lookup: value[:100]})
    return qs


@extend_schema(
    tags=["Orders"],
    parameters=[OpenApiParameter(p, str, required=False) for p in ("status", "erp_reference", "product")],
)
class OrderListView(AuditedMixin, generics.ListAPIView):
    serializer_class = OrderSerializer
    permissions_required = {"GET": [ORDER_VIEW]}

    def get_queryset(self):
        # recipe__product: the recipe's text ("<product> v<version>") names its product (one query per row without)
        qs = ProductionOrder.objects.select_related("product", "line", "recipe__product").order_by("-id")
        return _filters(
            qs,
            self.request.query_params,
            {"status": "status", "erp_reference": "erp_reference", "product": "product__code"},
        )


@extend_schema(tags=["Orders"], responses={200: OrderSerializer, **NOT_FOUND})
class OrderDetailView(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = OrderSerializer
    permissions_required = {"GET": [ORDER_VIEW]}
    lookup_field = "number"
    queryset = ProductionOrder.objects.select_related("product", "line", "recipe__product")


@extend_schema(tags=["ERP"], parameters=[OpenApiParameter("status", str, required=False)])
class PlanListView(AuditedMixin, generics.ListAPIView):
    """Production plans received from the ERP (pushed or pulled) and what became of them."""

    serializer_class = PlanSerializer
    permissions_required = {"GET": [ORDER_VIEW]}

    def get_queryset(self):
        qs = InboxMessage.objects.filter(system="erp", kind="production_plan").order_by("-id")
        return _filters(qs, self.request.query_params, {"status": "status"})


@extend_schema(tags=["Batches"], parameters=[OpenApiParameter(p, str, required=False) for p in ("status", "order")])
class BatchListView(AuditedMixin, generics.ListAPIView):
    serializer_class = BatchSerializer
    permissions_required = {"GET": [BATCH_VIEW]}

    def get_queryset(self):
        qs = Batch.objects.select_related("product", "order", "line").order_by("-id")
        return _filters(qs, self.request.query_params, {"status": "status", "order": "order__number"})


@extend_schema(tags=["Batches"], responses={200: BatchSerializer, **NOT_FOUND})
class BatchDetailView(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = BatchSerializer
    permissions_required = {"GET": [BATCH_VIEW]}
    lookup_field = "number"
    queryset = Batch.objects.select_related("product", "order", "line")


@extend_schema(
    tags=["Materials"], parameters=[OpenApiParameter(p, str, required=False) for p in ("status", "material")]
)
class LotListView(AuditedMixin, generics.ListAPIView):
    serializer_class = LotSerializer
    permissions_required = {"GET": [LOT_VIEW]}

    def get_queryset(self):
        qs = Lot.objects.select_related("material").order_by("-id")
        return _filters(qs, self.request.query_params, {"status": "status", "material": "material__code"})


@extend_schema(tags=["Materials"], responses={200: LotDetailSerializer, **NOT_FOUND})
class LotDetailView(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = LotDetailSerializer
    permissions_required = {"GET": [LOT_VIEW]}
    lookup_field = "code"
    queryset = Lot.objects.select_related("material").prefetch_related("balances__location")


@extend_schema(
    tags=["Materials"], parameters=[OpenApiParameter(p, str, required=False) for p in ("lot", "batch", "type")]
)
class MovementListView(AuditedMixin, generics.ListAPIView):
    """Ledger entries (receipts, issues, returns, transfers, adjustments), newest first."""

    serializer_class = MovementSerializer
    permissions_required = {"GET": [LOT_VIEW]}

    def get_queryset(self):
        qs = LedgerEntry.objects.select_related("lot", "location", "batch", "actor").order_by("-id")
        return _filters(
            qs, self.request.query_params, {"lot": "lot__code", "batch": "batch__number", "type": "entry_type"}
        )


XML_RESPONSES = {(200, "application/xml"): OpenApiTypes.STR, **NOT_FOUND, 400: ErrorSerializer}


AUDIT_READ = "audit.view_audit_trail"


class _BatchXmlView(AuditedMixin, APIView):
    permissions_required = {"GET": [BATCH_VIEW]}
    suffix = ""

    def build(self, batch) -> bytes:
        raise NotImplementedError

    def get(self, request, number: str):
        batch = get_object_or_404(Batch.objects.select_related("product", "order", "line"), number=number)
        xml = self.build(batch)
        response = HttpResponse(xml, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{batch.number}-{self.suffix}.xml"'
        return response


@extend_schema(tags=["Batches"], summary="B2MML OperationsPerformance of a closed batch", responses=XML_RESPONSES)
class BatchPerformanceView(_BatchXmlView):
    suffix = "performance"

    def build(self, batch) -> bytes:
        return batch_to_performance(batch)


@extend_schema(tags=["Batches"], summary="BatchML batch production record of a closed batch", responses=XML_RESPONSES)
class BatchRecordView(_BatchXmlView):
    suffix = "batchml"

    def build(self, batch) -> bytes:
        # The audit trail is for those who may read it (auditors), not every role that sees batches.
        return batch_to_batchml(batch, include_audit=self.request.user.has_perm(AUDIT_READ))


# --- equipment ---------------------------------------------------------------------------------
EQUIPMENT_VIEW = "equipment.view_equipment"


class EquipmentStatusSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    equipment_class = serializers.CharField(source="equipment_class.code")
    line = serializers.SerializerMethodField()
    status = serializers.CharField()
    usable = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    machine_state = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField()
    alarm_active = serializers.SerializerMethodField()
    calibration_due_on = serializers.DateField(allow_null=True)

    def _usability(self, eq):
        cache = self.context.setdefault("usability", {})
        if eq.pk not in cache:
            cache[eq.pk] = usability_evaluate(eq)
        return cache[eq.pk]

    def _live(self, eq):
        return getattr(eq, "live", None) if hasattr(eq, "live") else None

    def get_line(self, eq) -> str:
        return eq.line.code if eq.line_id else ""

    def get_usable(self, eq) -> bool:
        return bool(self._usability(eq).ok)

    def get_reasons(self, eq) -> list[str]:
        return [str(r) for r in self._usability(eq).reasons]

    def get_machine_state(self, eq) -> str:
        live = self._live(eq)
        return live.machine_state if live else "unknown"

    def get_link(self, eq) -> str:
        live = self._live(eq)
        return live.comm_state if live else "unknown"

    def get_alarm_active(self, eq) -> bool:
        live = self._live(eq)
        return bool(live and live.alarm_active)


def _equipment_queryset():
    return usability_queryset().filter(active=True).order_by("code")


@extend_schema(tags=["Equipment"], parameters=[OpenApiParameter(p, str, required=False) for p in ("status", "line")])
class EquipmentListView(AuditedMixin, generics.ListAPIView):
    """Equipment status: the interlock's answer (usable, and why not) and the live machine state."""

    serializer_class = EquipmentStatusSerializer
    permissions_required = {"GET": [EQUIPMENT_VIEW]}

    def get_queryset(self):
        return _filters(_equipment_queryset(), self.request.query_params, {"status": "status", "line": "line__code"})


@extend_schema(tags=["Equipment"], responses={200: EquipmentStatusSerializer, **NOT_FOUND})
class EquipmentDetailView(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = EquipmentStatusSerializer
    permissions_required = {"GET": [EQUIPMENT_VIEW]}
    lookup_field = "code"

    def get_queryset(self):
        return _equipment_queryset()
