"""Read queries that several pages and other apps use (release checks, batch review, worklists)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from quality.models import CAPA, CAPAStatus, Deviation, DeviationLink
from quality.models.deviations import OPEN_DEVIATION_STATES


def open_deviations_for(object_type: str, object_id) -> QuerySet[Deviation]:
    """Deviations not yet closed that are linked to the record `object_type`#`object_id`.

    `object_type` is "<app>.<model>" ("batches.batch", "materials.lot", "equipment.equipment").
    """
    ids = DeviationLink.objects.filter(object_type=object_type, object_id=str(object_id)).values("deviation_id")
    return Deviation.objects.filter(pk__in=ids, status__in=OPEN_DEVIATION_STATES).order_by("raised_at", "pk")


def deviations_for(object_type: str, object_id) -> QuerySet[Deviation]:
    """Every deviation (open or closed) linked to a record."""
    ids = DeviationLink.objects.filter(object_type=object_type, object_id=str(object_id)).values("deviation_id")
    return Deviation.objects.filter(pk__in=ids).order_by("raised_at", "pk")


def overdue_capas() -> QuerySet[CAPA]:
    """Actions past their due date and not closed."""
    return (
        CAPA.objects.exclude(status=CAPAStatus.CLOSED)
        .filter(due_date__lt=timezone.localdate())
        .select_related("owner", "deviation")
        .order_by("due_date", "pk")
    )
