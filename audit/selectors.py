"""Read queries over the audit trail (auditor pages, record history blocks)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_search(filters: dict) -> QuerySet[AuditEvent]:
    """Events matching the auditor's filters, newest first. Dates are plant-local days."""
    qs = AuditEvent.objects.all()
    if filters.get("user"):
        qs = qs.filter(username__iexact=filters["user"].strip())
    if filters.get("action"):
        qs = qs.filter(action__icontains=filters["action"].strip())
    if filters.get("record_type"):
        qs = qs.filter(object_type__icontains=filters["record_type"].strip())
    if filters.get("record_id"):
        qs = qs.filter(object_id=filters["record_id"].strip())
    if filters.get("text"):
        text = filters["text"].strip()
        qs = qs.filter(
            Q(old_values__icontains=text)
            | Q(new_values__icontains=text)
            | Q(reason__icontains=text)
            | Q(object_repr__icontains=text)
        )
    if filters.get("date_from"):
        qs = qs.filter(timestamp__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(timestamp__lt=_day_start(filters["date_to"] + dt.timedelta(days=1)))
    return qs.order_by("-seq")


def record_events(object_type: str, object_id) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("seq")
