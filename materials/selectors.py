"""Read queries the materials pages share (each a fixed number of queries, whatever the rows)."""

from __future__ import annotations

import datetime as dt

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from materials.models import EXPIRED, Lot, LotStatus, StockBalance

STOCK = Coalesce(Sum("balances__quantity"), Value(0), output_field=DecimalField(max_digits=14, decimal_places=3))


def lot_search(filters: dict) -> QuerySet[Lot]:
    """Lots for the list page, with their material and stock on hand (one query per page)."""
    today = timezone.localdate()
    qs = Lot.objects.select_related("material", "produced_by")
    if filters.get("q"):
        term = filters["q"].strip()
        qs = qs.filter(Q(code__icontains=term) | Q(supplier_lot__icontains=term) | Q(supplier__icontains=term))
    status = filters.get("status")
    if status == EXPIRED:
        qs = qs.filter(expiry_date__lt=today).exclude(status__in=[LotStatus.CONSUMED, LotStatus.REJECTED])
    elif status:
        qs = qs.filter(status=status)
        if status not in (LotStatus.CONSUMED, LotStatus.REJECTED):
            qs = qs.filter(expiry_date__gte=today)
    if filters.get("material"):
        qs = qs.filter(material=filters["material"])
    if filters.get("expires_within") is not None:
        qs = qs.filter(expiry_date__gte=today, expiry_date__lte=today + dt.timedelta(days=filters["expires_within"]))
    if filters.get("location"):
        qs = qs.filter(balances__location=filters["location"], balances__quantity__gt=0)
    return qs.annotate(stock=STOCK).order_by("-received_at", "-id")


def location_stock(location) -> QuerySet[StockBalance]:
    return (
        StockBalance.objects.filter(location=location, quantity__gt=0)
        .select_related("lot", "lot__material")
        .order_by("lot__material__code", "lot__expiry_date")
    )
