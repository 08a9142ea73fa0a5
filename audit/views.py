"""Auditor pages: search, event detail, record history, CSV export (audited), chain check."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from audit.csv_safe import csv_writer
from audit.forms import AuditSearchForm
from audit.models import AuditEvent, Signature
from audit.selectors import audit_search, record_events
from audit.services import audit_record
from audit.verification import verify_chain

VIEW = "audit.view_audit_trail"
EXPORT = "audit.export_audit_trail"


def _filters(request) -> tuple[AuditSearchForm, dict]:
    form = AuditSearchForm(request.GET or None)
    return form, (form.cleaned_data if form.is_valid() else {})


@permission_required(VIEW, raise_exception=True)
def event_list(request):
    form, filters = _filters(request)
    page = Paginator(audit_search(filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {"form": form, "page": page, "query": query.urlencode()})


@permission_required(VIEW, raise_exception=True)
def event_detail(request, seq: int):
    event = get_object_or_404(AuditEvent, seq=seq)
    signature = Signature.objects.filter(audit_event=event).first()
    return render(request, "audit/event_detail.html", {"event": event, "signature": signature})


@permission_required(VIEW, raise_exception=True)
def record_history(request, object_type: str, object_id: str):
    events = record_events(object_type, object_id)
    signatures = Signature.objects.filter(object_type=object_type, object_id=object_id)
    return render(
        request,
        "audit/record_history.html",
        {"events": events, "signatures": signatures, "object_type": object_type, "object_id": object_id},
    )


class _Echo:
    def write(self, value):
        return value


@permission_required(EXPORT, raise_exception=True)
def export_csv(request):
    """Stream the filtered trail as CSV; the export itself is an audit event (with its filters)."""
    form, filters = _filters(request)
    qs = audit_search(filters)
    with transaction.atomic():
        audit_record(
            action="audit.export",
            actor=request.user,
            new={"filters": {k: v for k, v in filters.items() if v}, "rows": qs.count(), "format": "csv"},
        )
    writer = csv_writer(_Echo())
    header = [
        "seq",
        "timestamp_utc",
        "user",
        "action",
        "record_type",
        "record_id",
        "record",
        "old_values",
        "new_values",
        "reason",
        "request_id",
        "ip",
        "prev_hash",
        "hash",
    ]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.seq,
                    e.timestamp.isoformat(),
                    e.username,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.object_repr,
                    e.old_values,
                    e.new_values,
                    e.reason,
                    e.request_id,
                    e.ip_address,
                    e.prev_hash,
                    e.hash,
                ]
            )

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response


@permission_required(VIEW, raise_exception=True)
def verify(request):
    result = None
    if request.method == "POST":
        result = verify_chain()
        with transaction.atomic():
            audit_record(
                action="audit.verify",
                actor=request.user,
                new={"ok": result.ok, "events": result.events, "first_bad_seq": result.first_bad_seq},
            )
    return render(request, "audit/verify.html", {"result": result})
