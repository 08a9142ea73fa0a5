"""Read queries that several pages and other apps use (release checks, batch review, worklists)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet
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


def deviations_linked(
    records: Iterable[tuple[str, object]], windows: Iterable[tuple[str, object, dt.datetime, dt.datetime | None]] = ()
) -> QuerySet[Deviation]:
    """Every deviation linked to any of `records` ((object_type, id) pairs), plus those linked to a
    record of `windows` ((object_type, id, start, end)) and raised within that time window (equipment
    while it was used by a batch). One query; the links come prefetched."""
    by_type: dict[str, set[str]] = {}
    for object_type, object_id in records:
        by_type.setdefault(object_type, set()).add(str(object_id))
    direct = Q(pk__in=[])
    for object_type, ids in by_type.items():
        direct |= Q(object_type=object_type, object_id__in=sorted(ids))
    condition = Q(pk__in=DeviationLink.objects.filter(direct).values("deviation_id"))
    for object_type, object_id, start, end in windows:
        linked = DeviationLink.objects.filter(object_type=object_type, object_id=str(object_id)).values("deviation_id")
        window = Q(pk__in=linked, raised_at__gte=start)
        if end is not None:
            window &= Q(raised_at__lte=end)
        condition |= window
    return Deviation.objects.filter(condition).prefetch_related("links").order_by("raised_at", "pk")
