"""Quality records for a LIMS and a QMS: inspections (with their tests, samples and results) and
deviations (with their links and CAPAs). Same permissions as the quality pages; lists read with a
fixed number of queries; every call audited (AuditedMixin).

Writes: results come in as LIMS messages and CAPA decisions as QMS messages (the inbox, replayable).
The one write here is the sample a LIMS logs in when it receives it (`sample_take`), so that its
results can name the sample.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from integrations.api.base import AuditedAPIView, AuditedMixin
from integrations.api.serializers import ErrorSerializer
from quality.models import CAPA, Deviation, Inspection, InspectionSample, Result, TestItem
from quality.services.inspections import sample_take

INSPECTION_VIEW = "quality.view_inspection"
DEVIATION_VIEW = "quality.view_deviation"
CAPA_VIEW = "quality.view_capa"
SAMPLE_ADD = "quality.enter_result"
NOT_FOUND = {403: ErrorSerializer, 404: ErrorSerializer}


def _filters(qs, params, allowed: dict):
    for param, lookup in allowed.items():
        value = params.get(param)
        if value:
            qs = qs.filter(**{lookup: value[:100]})
    return qs


# --- inspections ---------------------------------------------------------------------------------
class InspectionSerializer(serializers.ModelSerializer):
    lot = serializers.CharField(source="lot.code")
    material = serializers.CharField(source="lot.material.code")
    batch = serializers.SerializerMethodField()
    specification = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = [
            "number",
            "status",
            "inspection_type",
            "origin",
            "lot",
            "material",
            "batch",
            "specification",
            "due_date",
            "created_at",
            "completed_at",
            "lot_decision",
        ]

    def get_batch(self, inspection) -> str:
        return inspection.batch.number if inspection.batch_id else ""

    def get_specification(self, inspection) -> str:
        spec = inspection.specification
        return f"{spec.title} v{spec.version}"


class TestSerializer(serializers.ModelSerializer):
    test_code = serializers.SerializerMethodField(help_text="The code LIMS results quote.")

    class Meta:
        model = TestItem
        fields = ["test_code", "name", "method", "kind", "unit", "lower_limit", "upper_limit", "acceptance"]

    def get_test_code(self, item) -> str:
        return str(item.pk)


class SampleSerializer(serializers.ModelSerializer):
    taken_by = serializers.CharField(source="taken_by.username")

    class Meta:
        model = InspectionSample
        fields = ["code", "quantity", "unit", "container", "taken_by", "taken_at"]


class ResultSerializer(serializers.ModelSerializer):
    test_code = serializers.CharField(source="item_id")
    test = serializers.CharField(source="item.name")
    sample = serializers.SerializerMethodField()
    deviation = serializers.SerializerMethodField()
    entered_by = serializers.CharField(source="entered_by.username")

    class Meta:
        model = Result
        fields = [
            "test_code",
            "test",
            "value_numeric",
            "value_text",
            "passed",
            "conforms",
            "current",
            "correction_reason",
            "sample",
            "deviation",
            "entered_by",
            "entered_at",
        ]

    def get_sample(self, result) -> str:
        return result.sample.code if result.sample_id else ""

    def get_deviation(self, result) -> str:
        return result.deviation.number if result.deviation_id else ""


class InspectionDetailSerializer(InspectionSerializer):
    tests = serializers.SerializerMethodField()
    samples = SampleSerializer(many=True)
    results = ResultSerializer(many=True)

    class Meta(InspectionSerializer.Meta):
        fields = [*InspectionSerializer.Meta.fields, "conclusion", "tests", "samples", "results"]

    @extend_schema_field(TestSerializer(many=True))
    def get_tests(self, inspection) -> list[dict]:
        return TestSerializer([i for i in inspection.specification.items.all() if not i.removed], many=True).data


INSPECTION_LIST = Inspection.objects.select_related("lot__material", "batch", "specification")


@extend_schema(
    tags=["Quality"],
    parameters=[OpenApiParameter(p, str, required=False) for p in ("status", "type", "lot", "material", "batch")],
)
class InspectionListView(AuditedMixin, generics.ListAPIView):
    serializer_class = InspectionSerializer
    permissions_required = {"GET": [INSPECTION_VIEW]}

    def get_queryset(self):
        return _filters(
            INSPECTION_LIST.order_by("-id"),
            self.request.query_params,
            {
                "status": "status",
                "type": "inspection_type",
                "lot": "lot__code",
                "material": "lot__material__code",
                "batch": "batch__number",
            },
        )


@extend_schema(tags=["Quality"], responses={200: InspectionDetailSerializer, **NOT_FOUND})
class InspectionDetailView(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = InspectionDetailSerializer
    permissions_required = {"GET": [INSPECTION_VIEW]}
    lookup_field = "number"
    queryset = INSPECTION_LIST.prefetch_related(
        "specification__items",
        Prefetch("samples", InspectionSample.objects.select_related("taken_by").order_by("pk")),
        Prefetch("results", Result.objects.select_related("item", "sample", "deviation", "entered_by").order_by("pk")),
    )


class SampleInSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit = serializers.CharField(max_length=10)
    container = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class SampleTakeView(AuditedAPIView):
    """A LIMS logs in the sample it received (the inspection starts; results then name the sample)."""

    permissions_required = {"POST": [SAMPLE_ADD]}

    @extend_schema(
        tags=["Quality"],
        summary="Record a sample of an inspection",
        request=SampleInSerializer,
        responses={201: SampleSerializer, 400: ErrorSerializer, **NOT_FOUND},
    )
    def post(self, request, number: str):
        inspection = get_object_or_404(Inspection, number=number)
        data = SampleInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sample = sample_take(user=request.user, inspection_id=inspection.pk, **data.validated_data)
        return Response(SampleSerializer(sample).data, status=status.HTTP_201_CREATED)


# --- deviations ----------------------------------------------------------------------------------
class LinkSerializer(serializers.Serializer):
    type = serializers.CharField(source="object_type")
    id = serializers.CharField(source="object_id")
    label = serializers.CharField()


class DeviationSerializer(serializers.ModelSerializer):
    raised_by = serializers.SerializerMethodField()
    links = LinkSerializer(many=True)

    class Meta:
        model = Deviation
        fields = [
            "number",
            "title",
            "source",
            "classification",
            "status",
            "raised_by",
            "raised_at",
            "closed_at",
            "links",
        ]

    def get_raised_by(self, deviation) -> str:
        return deviation.raised_by.username if deviation.raised_by_id else ""


class CapaSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = CAPA
        fields = ["number", "kind", "action", "owner", "due_date", "status", "evidence", "effectiveness", "closed_at"]


class DeviationDetailSerializer(DeviationSerializer):
    capas = serializers.SerializerMethodField(help_text="Empty for callers who may not read CAPAs.")

    class Meta(DeviationSerializer.Meta):
        fields = [
            *DeviationSerializer.Meta.fields,
            "description",
            "root_cause",
            "impact_assessment",
            "closure_summary",
            "capas",
        ]

    @extend_schema_field(CapaSerializer(many=True))
    def get_capas(self, deviation) -> list[dict]:
        request = self.context.get("request")
        if request is None or not request.user.has_perm(CAPA_VIEW):
            return []
        return CapaSerializer(deviation.capas.all(), many=True).data


DEVIATION_LIST = Deviation.objects.select_related("raised_by").prefetch_related("links")


@extend_schema(
    tags=["Quality"],
    parameters=[OpenApiParameter(p, str, required=False) for p in ("status", "classification", "source", "record")],
)
class DeviationListView(AuditedMixin, generics.ListAPIView):
    """Deviations, newest first; `record` finds those linked to a batch number, lot code or equipment code."""

    serializer_class = DeviationSerializer
    permissions_required = {"GET": [DEVIATION_VIEW]}

    def get_queryset(self):
        qs = _filters(
            DEVIATION_LIST.order_by("-raised_at", "-id"),
            self.request.query_params,
            {"status": "status", "classification": "classification", "source": "source"},
        )
        record = self.request.query_params.get("record")
        if record:
            qs = qs.filter(links__label__startswith=record[:100]).distinct()
        return qs


@extend_schema(tags=["Quality"], responses={200: DeviationDetailSerializer, **NOT_FOUND})
class DeviationDetailView(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = DeviationDetailSerializer
    permissions_required = {"GET": [DEVIATION_VIEW]}
    lookup_field = "number"
    queryset = DEVIATION_LIST.prefetch_related(Prefetch("capas", CAPA.objects.select_related("owner").order_by("pk")))
