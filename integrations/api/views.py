"""API endpoints of the integration layer: inbound messages (push) and the message log.

Domain endpoints (orders, batches, lots, ...) live in integrations/api/domain.py.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from integrations.api.base import AuditedAPIView, AuditedMixin
from integrations.api.parsers import strict_json_loads
from integrations.api.problems import PROBLEM_JSON, problem_body
from integrations.api.serializers import (
    ErrorSerializer,
    InboxMessageSerializer,
    OutboxMessageSerializer,
    ReceiptSerializer,
)
from integrations.b2mml.schedule import schedule_to_plan
from integrations.erp.mapping import ProductionPlanSerializer
from integrations.lims.mapping import TestResultsSerializer
from integrations.models import InboxMessage, InboxStatus, OutboxMessage
from integrations.qms.mapping import CapaDecisionSerializer
from integrations.services.inbox import inbox_fail, inbox_process, inbox_receive
from integrations.wms.mapping import ReceiptSerializer as WmsReceiptSerializer
from integrations.wms.mapping import StockStatusSerializer
from mes.generated import localized_error_detail, localized_message

LOG_PERMISSION = "integrations.view_message_log"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class InboundView(AuditedAPIView):
    """Store the message first (even if it is not JSON), then process it once."""

    system = ""
    kind = ""
    payload_serializer = None
    natural_id_field = ""

    def _message_id(self, request, payload, raw: str) -> str:
        header = request.headers.get("Idempotency-Key", "").strip()
        if header:
            return header
        if isinstance(payload, dict):
            for name in ("message_id", self.natural_id_field):
                value = payload.get(name) if name else None
                if isinstance(value, str | int) and str(value).strip():
                    # A plan's revision is another message (the ERP changed it), not a duplicate.
                    revision = payload.get("revision") if name == "plan_id" else None
                    suffix = f":{revision}" if isinstance(revision, int) and revision else ""
                    return f"{self.kind}:{value}{suffix}"
        # No id given: the content itself identifies the message (an identical resend is a duplicate).
        return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()

    def post(self, request, *args, **kwargs):
        raw_bytes = request._request.body
        raw = raw_bytes.decode("utf-8", "replace")
        error = None
        try:
            with translation.override("en"):  # a refusal is stored in English, answered in the client's language
                payload = strict_json_loads(raw_bytes)
        except ParseError as exc:
            # Stored as text with the reason, so the refusal is on the message log too.
            payload, error = None, ValidationError(str(exc.detail))
        message, created = inbox_receive(
            system=self.system,
            kind=self.kind,
            message_id=self._message_id(request, payload, raw),
            payload=payload,
            raw=raw.replace("\x00", "\ufffd"),
            actor=request.user,
        )
        if created:
            if error is not None:
                message = inbox_fail(message_id=message.pk, error=error)
            else:
                message = inbox_process(message_id=message.pk, actor=request.user)
        return _receipt(message, duplicate=not created, request=request)


def _receipt(message: InboxMessage, *, duplicate: bool, request) -> Response:
    if message.status == InboxStatus.FAILED:
        errors = localized_error_detail(
            (message.result or {}).get("errors") or {"non_field_errors": [message.last_error]}
        )
        body = problem_body(
            status=400,
            code="invalid",
            detail=_("The message was stored but not applied."),
            errors=errors,
            request=request,
            inbox_message=message.pk,  # the stored message, on the message log with its error
        )
        return Response(body, status=status.HTTP_400_BAD_REQUEST, content_type=PROBLEM_JSON)
    code = {
        InboxStatus.PROCESSED: status.HTTP_200_OK if duplicate else status.HTTP_201_CREATED,
        InboxStatus.PARKED: status.HTTP_202_ACCEPTED,
    }.get(message.status, status.HTTP_202_ACCEPTED)
    body = {
        "id": message.pk,
        "message_id": message.message_id,
        "status": message.status,
        "duplicate": duplicate,
        "result": message.result,
        "detail": localized_message(message.last_error),
    }
    return Response(body, status=code)


def inbound(system: str, kind: str, serializer, permission: str, natural_id: str, summary: str):
    """Build one push endpoint for (system, kind) with its OpenAPI description."""
    view = type(
        f"{system.title()}{kind.title().replace('_', '')}View",
        (InboundView,),
        {
            "system": system,
            "kind": kind,
            "payload_serializer": serializer,
            "natural_id_field": natural_id,
            "permissions_required": {"POST": [permission]},
        },
    )

    def post(self, request, *args, **kwargs):  # a function of its own: the schema is attached to it
        return InboundView.post(self, request, *args, **kwargs)

    view.post = extend_schema(
        summary=summary,
        request=serializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={
            200: OpenApiResponse(ReceiptSerializer, description="Already received (duplicate)"),
            201: OpenApiResponse(ReceiptSerializer, description="Applied"),
            202: OpenApiResponse(ReceiptSerializer, description="Stored; waiting for a module"),
            **ERRORS,
        },
        tags=[system.upper()],
    )(post)
    return view


ErpPlanView = inbound(
    "erp", "production_plan", ProductionPlanSerializer, "integrations.push_erp", "plan_id", "Push a production plan"
)
LimsResultsView = inbound(
    "lims", "test_results", TestResultsSerializer, "integrations.push_lims", "", "Push test results"
)
# No natural id for CAPA decisions: one QMS CAPA receives several decisions (approved, then closed or
# rejected), so without an Idempotency-Key the content identifies the message (an identical resend).
QmsCapaView = inbound(
    "qms", "capa_decision", CapaDecisionSerializer, "integrations.push_qms", "", "Push a CAPA decision"
)
WmsReceiptView = inbound(
    "wms", "receipt", WmsReceiptSerializer, "integrations.push_wms", "receipt_id", "Push a material receipt"
)
WmsStockView = inbound(
    "wms", "stock_status", StockStatusSerializer, "integrations.push_wms", "", "Push lot stock status"
)

LOG_FILTERS = [
    OpenApiParameter("system", str, required=False),
    OpenApiParameter("status", str, required=False),
]


class _LogFilterMixin:
    def get_queryset(self):
        qs = super().get_queryset()
        for name in ("system", "status"):
            value = self.request.query_params.get(name)
            if value:
                qs = qs.filter(**{name: value})
        return qs


@extend_schema(tags=["Message log"], parameters=LOG_FILTERS)
class OutboxListView(AuditedMixin, _LogFilterMixin, generics.ListAPIView):
    queryset = OutboxMessage.objects.order_by("-id")
    serializer_class = OutboxMessageSerializer
    permissions_required = {"GET": [LOG_PERMISSION]}


@extend_schema(tags=["Message log"], responses={200: OutboxMessageSerializer, **ERRORS, 404: ErrorSerializer})
class OutboxDetailView(AuditedMixin, generics.RetrieveAPIView):
    queryset = OutboxMessage.objects.all()
    serializer_class = OutboxMessageSerializer
    permissions_required = {"GET": [LOG_PERMISSION]}


@extend_schema(tags=["Message log"], parameters=LOG_FILTERS)
class InboxListView(AuditedMixin, _LogFilterMixin, generics.ListAPIView):
    queryset = InboxMessage.objects.order_by("-id")
    serializer_class = InboxMessageSerializer
    permissions_required = {"GET": [LOG_PERMISSION]}


@extend_schema(tags=["Message log"], responses={200: InboxMessageSerializer, **ERRORS, 404: ErrorSerializer})
class InboxDetailView(AuditedMixin, generics.RetrieveAPIView):
    queryset = InboxMessage.objects.all()
    serializer_class = InboxMessageSerializer
    permissions_required = {"GET": [LOG_PERMISSION]}


class B2mmlScheduleView(InboundView):
    """A B2MML OperationsSchedule (XML): each OperationsRequest becomes a production order."""

    system = "erp"
    kind = "production_plan"
    permissions_required = {"POST": ["integrations.push_erp"]}

    @extend_schema(
        summary="Push a B2MML OperationsSchedule",
        request={"application/xml": OpenApiTypes.STR},
        responses={
            200: OpenApiResponse(ReceiptSerializer, description="Already received (duplicate)"),
            201: OpenApiResponse(ReceiptSerializer, description="Applied"),
            **ERRORS,
        },
        tags=["ERP"],
    )
    def post(self, request, *args, **kwargs):
        raw_bytes = request._request.body
        raw = raw_bytes.decode("utf-8", "replace").replace("\x00", "\ufffd")
        try:
            with translation.override("en"):
                payload = schedule_to_plan(raw_bytes)
        except ValidationError as exc:
            payload, error = None, exc
        else:
            error = None
        plan_id = (payload or {}).get("plan_id", "")
        # Without a key: the schedule id and the content (a resend is a duplicate, a changed schedule is not).
        digest = hashlib.sha256(raw_bytes).hexdigest()
        message_id = request.headers.get("Idempotency-Key", "").strip() or (
            f"b2mml:{plan_id}:{digest[:16]}" if plan_id else f"sha256:{digest}"
        )
        message, created = inbox_receive(
            system=self.system, kind=self.kind, message_id=message_id, payload=payload, raw=raw, actor=request.user
        )
        if created:
            if error is not None:
                message = inbox_fail(message_id=message.pk, error=error)
            else:
                message = inbox_process(message_id=message.pk, actor=request.user)
        return _receipt(message, duplicate=not created, request=request)
