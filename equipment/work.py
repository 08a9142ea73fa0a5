"""Home-page work cards: what is waiting in equipment for the user's roles."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from equipment.models import Equipment, EquipmentStatus, FaultReport, FaultStatus, WorkOrder, WorkOrderStatus
from mes.permcache import holds
from mes.workqueue import WorkCard


def cards(user) -> list[WorkCard]:
    out: list[WorkCard] = []
    if holds(user, "equipment.clean_equipment"):
        n = Equipment.objects.filter(active=True, status__in=[EquipmentStatus.DIRTY, EquipmentStatus.CLEANING]).count()
        if n:
            out.append(
                WorkCard(
                    _("Equipment to clean"), n, reverse("equipment:cleaning_due"), _("Dirty or being cleaned"), "warn"
                )
            )
    if holds(user, "equipment.maintain_equipment"):
        faults = FaultReport.objects.filter(status=FaultStatus.OPEN).count()
        orders = WorkOrder.objects.filter(status__in=[WorkOrderStatus.OPEN, WorkOrderStatus.IN_PROGRESS]).count()
        if faults or orders:
            out.append(
                WorkCard(
                    _("Faults and work orders"),
                    faults + orders,
                    reverse("equipment:workorders"),
                    _("New faults: %(f)d · open work orders: %(o)d") % {"f": faults, "o": orders},
                    "danger" if faults else "warn",
                )
            )
    if holds(user, "equipment.calibrate_equipment"):
        n = Equipment.objects.filter(
            active=True, calibration_interval_days__isnull=False, calibration_due_on__lt=timezone.localdate()
        ).count()
        if n:
            out.append(
                WorkCard(
                    _("Calibration overdue"),
                    n,
                    reverse("equipment:calibration_due"),
                    _("Blocked until calibrated"),
                    "danger",
                )
            )
    if holds(user, "equipment.requalify_equipment"):
        # repairs someone else completed: the repairer may not requalify his own work
        n = (
            WorkOrder.objects.filter(status=WorkOrderStatus.COMPLETED)
            .exclude(completed_by=user)
            .exclude(started_by=user)
            .count()
        )
        if n:
            out.append(
                WorkCard(
                    _("Awaiting requalification"),
                    n,
                    reverse("equipment:workorders"),
                    _("Repaired equipment to requalify (not your own repair)"),
                    "warn",
                )
            )
    return out
