"""Read queries shared by the equipment pages and work cards (bounded, no N+1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from equipment.models import (
    CaptureAlert,
    EndpointHealth,
    Equipment,
    EquipmentStatus,
    FaultReport,
    FaultStatus,
    MaintenancePlan,
    WorkOrder,
    WorkOrderStatus,
)
from equipment.services.pm import pm_plan_state
from equipment.services.status import Usability, usability_evaluate, usability_queryset

S = EquipmentStatus
CLEAN_HOLD_WARNING = dt.timedelta(hours=24)
CALIBRATION_HORIZON_DAYS = 30


@dataclass
class BoardTile:
    equipment: Equipment
    usability: Usability

    @property
    def tone(self) -> str:
        """Colour of the tile: the status, turned 'blocked' when an available equipment may not be used."""
        if self.equipment.status == S.AVAILABLE and not self.usability.ok:
            return "blocked"
        return self.equipment.status


def board(line=None) -> list[BoardTile]:
    qs = usability_queryset().filter(active=True).order_by("line__code", "code")
    if line is not None:
        qs = qs.filter(line=line)
    now = timezone.now()
    return [BoardTile(eq, usability_evaluate(eq, at=now)) for eq in qs]


def board_groups(tiles: list[BoardTile]) -> list[tuple[object, list[BoardTile]]]:
    groups: dict = {}
    for tile in tiles:
        groups.setdefault(tile.equipment.line or tile.equipment.area, []).append(tile)
    return list(groups.items())


def calibration_due(horizon_days: int = CALIBRATION_HORIZON_DAYS) -> QuerySet:
    limit = timezone.localdate() + dt.timedelta(days=horizon_days)
    return (
        Equipment.objects.filter(active=True, calibration_interval_days__isnull=False)
        .filter(Q(calibration_due_on__lte=limit) | Q(calibration_due_on__isnull=True))
        .select_related("line", "equipment_class")
        .order_by(F("calibration_due_on").asc(nulls_first=True), "code")
    )


def cleaning_due() -> list[dict]:
    """Dirty equipment (most urgent first) and clean equipment whose clean hold runs out within 24 h."""
    now = timezone.now()
    rows = []
    qs = (
        Equipment.objects.filter(active=True)
        .filter(Q(status__in=[S.DIRTY, S.CLEANING]) | Q(status=S.AVAILABLE))
        .select_related("line", "last_product", "equipment_class")
        .order_by("code")
    )
    for eq in qs:
        if eq.status in (S.DIRTY, S.CLEANING):
            due = eq.dirty_since + dt.timedelta(hours=eq.dirty_hold_hours) if eq.dirty_since else None
            rows.append({"equipment": eq, "due": due, "overdue": bool(due and due < now), "why": "dirty"})
        elif (
            eq.cleaned_at is None or eq.cleaned_at + dt.timedelta(hours=eq.clean_hold_hours) < now + CLEAN_HOLD_WARNING
        ):
            due = eq.cleaned_at + dt.timedelta(hours=eq.clean_hold_hours) if eq.cleaned_at else None
            rows.append({"equipment": eq, "due": due, "overdue": due is None or due < now, "why": "hold"})
    rows.sort(key=lambda r: r["due"] or now)  # no due time (never cleaned) counts as due now
    return rows


def open_faults() -> QuerySet:
    return (
        FaultReport.objects.filter(status=FaultStatus.OPEN)
        .select_related("equipment", "equipment__line", "reported_by")
        .order_by("reported_at", "id")
    )


def work_order_queue() -> QuerySet:
    return (
        WorkOrder.objects.exclude(status=WorkOrderStatus.CLOSED)
        .select_related("equipment", "equipment__line", "fault", "plan", "created_by", "started_by", "completed_by")
        .order_by("created_at", "id")
    )


def capture_health() -> list:
    """Every OPC UA endpoint's health (last good read, reconnects, skipped polls, lag), worst first."""
    return sorted(EndpointHealth.objects.all(), key=lambda h: (h.connected, h.url))


def capture_alerts_open() -> QuerySet:
    return (
        CaptureAlert.objects.filter(cleared_at__isnull=True)
        .select_related("equipment", "tag")
        .order_by("-raised_at", "-id")[:100]
    )


def pm_plan_rows(today) -> list[dict]:
    """Every active preventive maintenance plan with its state (2 queries)."""

    plans = MaintenancePlan.objects.filter(active=True).select_related("equipment", "open_work_order")
    rows = [{"plan": p, "state": pm_plan_state(p, today)} for p in plans.order_by("equipment__code", "title")]
    rows.sort(key=lambda r: (not r["state"].overdue, not r["state"].due))
    return rows
