"""Faults and maintenance: fault report -> work order -> repair -> completion -> requalification.

Repaired equipment waits in 'awaiting requalification' until someone other than the repairer
signs the requalification; only then is it available (or dirty, if it was dirty before).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from equipment.events import fault_reported
from equipment.models import (
    FAULT_MACHINE,
    WORK_ORDER_MACHINE,
    Equipment,
    EquipmentStatus,
    FaultReport,
    FaultSource,
    FaultStatus,
    LogbookKind,
    WorkOrder,
    WorkOrderStatus,
)
from equipment.services.pm import pm_plan_done
from equipment.services.status import logbook_write, refuse_same_person, status_apply
from mes.generated import GeneratedText, english
from mes.workflow import transition_apply

OPCUA_ALARM = GeneratedText(gettext_noop("OPC UA alarm"))
FAULT_REPORTED = GeneratedText(gettext_noop("Fault %(number)s reported (%(source)s): %(text)s"), words=("source",))
FAULT_DISMISSED = GeneratedText(gettext_noop("Fault %(number)s dismissed."))
WORK_ORDER_OPENED = GeneratedText(gettext_noop("Work order %(wo)s opened for fault %(fault)s."))
MAINTENANCE_STARTED = GeneratedText(gettext_noop("Maintenance started (work order %(wo)s)."))
REPAIR_COMPLETED = GeneratedText(
    gettext_noop("Repair %(wo)s completed: %(work)s. Parts: %(parts)s. Time: %(min)d min.")
)
REQUALIFIED_BY_SECOND_PERSON = GeneratedText(gettext_noop("Requalified after %(wo)s by a second person: %(notes)s"))

S = EquipmentStatus


def fault_report(
    *,
    equipment: Equipment | int,
    user,
    description: str,
    source: str = FaultSource.MANUAL,
    alarm_code: str = "",
    alarm_key: str = "",
) -> FaultReport:
    """Report a fault (a person, a failed check or calibration, or an OPC UA alarm with `user=None`).

    An alarm occurrence (`alarm_key`) is reported once: a repeat returns the existing report.
    """
    if user is not None and source == FaultSource.MANUAL and not user.has_perm("equipment.report_fault"):
        raise PermissionDenied(_("You do not have permission to report faults."))
    description = (description or "").strip()
    if not description:
        raise ValidationError(_("Describe the fault."))
    pk = equipment.pk if isinstance(equipment, Equipment) else equipment
    if alarm_key:
        existing = FaultReport.objects.filter(equipment_id=pk, alarm_key=alarm_key).first()
        if existing:
            return existing
    try:
        with (
            transaction.atomic(),
            audit_context(actor=user, action="equipment.fault.report", reason=OPCUA_ALARM() if alarm_key else ""),
        ):
            fault = FaultReport.objects.create(
                equipment_id=pk,
                source=source,
                description=description,
                alarm_code=alarm_code,
                alarm_key=alarm_key,
                reported_by=user,
            )
            logbook_write(
                equipment=fault.equipment,
                kind=LogbookKind.FAULT,
                user=user,
                text=FAULT_REPORTED
                % {"number": fault.number, "source": english(FaultSource(fault.source).label), "text": description},
            )
            # Quality (issue #6) opens a deviation when the equipment is running a batch.
            fault_reported.announce(fault=fault, user=user)
    except IntegrityError:
        # Another poller stored the same alarm occurrence at the same moment.
        return FaultReport.objects.get(equipment_id=pk, alarm_key=alarm_key)
    return fault


def fault_dismiss(*, fault: FaultReport | int, user, reason: str) -> FaultReport:
    """Dismiss a report that turned out not to be a fault (reason required)."""
    pk = fault.pk if isinstance(fault, FaultReport) else fault

    def after(obj):
        logbook_write(
            equipment=obj.equipment,
            kind=LogbookKind.FAULT,
            user=user,
            reason=reason,
            text=FAULT_DISMISSED % {"number": obj.number},
        )

    return transition_apply(
        model=FaultReport,
        pk=pk,
        machine=FAULT_MACHINE,
        name="dismiss",
        user=user,
        reason=reason,
        changes={"closed_at": timezone.now()},
        after=after,
    )


def workorder_create(*, fault: FaultReport | int, user) -> WorkOrder:
    """Open a maintenance work order for an open fault."""
    pk = fault.pk if isinstance(fault, FaultReport) else fault
    created: dict = {}

    def after(obj):
        wo = WorkOrder.objects.create(equipment=obj.equipment, fault=obj, created_by=user)
        logbook_write(
            equipment=obj.equipment,
            kind=LogbookKind.MAINTENANCE,
            user=user,
            text=WORK_ORDER_OPENED % {"wo": wo.number, "fault": obj.number},
        )
        created["wo"] = wo

    transition_apply(model=FaultReport, pk=pk, machine=FAULT_MACHINE, name="create_work_order", user=user, after=after)
    return created["wo"]


def _wo_apply(wo: WorkOrder | int, name: str, user, **kw) -> WorkOrder:
    pk = wo.pk if isinstance(wo, WorkOrder) else wo
    return transition_apply(model=WorkOrder, pk=pk, machine=WORK_ORDER_MACHINE, name=name, user=user, **kw)


def workorder_start(*, work_order: WorkOrder | int, user) -> WorkOrder:
    """Start the repair: the equipment goes into maintenance (refused while a batch uses it)."""
    pk = work_order.pk if isinstance(work_order, WorkOrder) else work_order
    wo = WorkOrder.objects.select_related("equipment").get(pk=pk)
    eq = wo.equipment
    if eq.status == S.IN_USE:
        raise ValidationError(
            _("%(code)s is in use by batch %(batch)s: shut it down (end use) before the repair.")
            % {"code": eq.code, "batch": eq.current_batch}
        )
    if eq.status == S.OUT_OF_SERVICE:
        raise ValidationError(_("%(code)s is out of service: return it to service first.") % {"code": eq.code})
    was_clean = eq.status in (S.AVAILABLE, S.AWAITING_REQUALIFICATION) and eq.cleaned_at is not None
    with transaction.atomic():

        def after(obj):
            if eq.status != S.MAINTENANCE:
                status_apply(
                    equipment=eq.pk,
                    name="start_maintenance",
                    user=user,
                    kind=LogbookKind.MAINTENANCE,
                    text=MAINTENANCE_STARTED % {"wo": obj.number},
                )

        return _wo_apply(
            pk,
            "start",
            user,
            after=after,
            changes={"started_by": user, "started_at": timezone.now(), "was_clean": was_clean},
        )


def workorder_complete(
    *,
    work_order: WorkOrder | int,
    user,
    password: str,
    work_done: str,
    parts_replaced: str = "",
    labour_minutes: int | None = None,
    reason: str = "",
) -> WorkOrder:
    """Record the repair (work done, parts, time) and sign it; the equipment awaits requalification."""
    if not (work_done or "").strip():
        raise ValidationError(_("Describe the work done."))
    if labour_minutes is None or labour_minutes <= 0:
        raise ValidationError(_("Enter the working time in minutes."))
    pk = work_order.pk if isinstance(work_order, WorkOrder) else work_order

    def after(obj):
        others = WorkOrder.objects.filter(equipment=obj.equipment, status=WorkOrderStatus.IN_PROGRESS).exclude(
            pk=obj.pk
        )
        if not others.exists():
            status_apply(
                equipment=obj.equipment_id,
                name="finish_maintenance",
                user=user,
                kind=LogbookKind.MAINTENANCE,
                text=REPAIR_COMPLETED
                % {"wo": obj.number, "work": work_done, "parts": parts_replaced or "-", "min": labour_minutes},
            )

    return _wo_apply(
        pk,
        "complete",
        user,
        password=password,
        reason=reason,
        after=after,
        changes={
            "work_done": work_done.strip(),
            "parts_replaced": (parts_replaced or "").strip(),
            "labour_minutes": labour_minutes,
            "completed_by": user,
            "completed_at": timezone.now(),
        },
    )


def workorder_requalify(
    *, work_order: WorkOrder | int, user, password: str, notes: str = "", reason: str = ""
) -> WorkOrder:
    """Requalify the repaired equipment (signed by someone who did not do the repair) and close."""
    pk = work_order.pk if isinstance(work_order, WorkOrder) else work_order
    wo = WorkOrder.objects.select_related("equipment", "completed_by", "started_by").get(pk=pk)
    refuse_same_person(user, wo.completed_by)
    refuse_same_person(user, wo.started_by)
    if wo.status == WorkOrderStatus.COMPLETED and wo.equipment.status != S.AWAITING_REQUALIFICATION:
        raise ValidationError(
            _("%(code)s is not awaiting requalification (another repair is still in progress).")
            % {"code": wo.equipment.code}
        )
    if not (notes or "").strip():
        raise ValidationError(_("Record the checks done for the requalification."))
    now = timezone.now()

    def after(obj):
        if obj.fault_id:
            transition_apply(
                model=FaultReport,
                pk=obj.fault_id,
                machine=FAULT_MACHINE,
                name="close",
                user=user,
                changes={"closed_at": now},
            )
        if obj.plan_id:  # preventive maintenance done: the plan starts counting again
            pm_plan_done(work_order=obj, today=timezone.localdate())
        status_apply(
            equipment=obj.equipment_id,
            name="requalify" if obj.was_clean else "requalify_to_dirty",
            user=user,
            reason=reason,
            kind=LogbookKind.REQUALIFICATION,
            text=REQUALIFIED_BY_SECOND_PERSON % {"wo": obj.number, "notes": notes},
        )

    with transaction.atomic(), audit_context(actor=user, reason=reason):
        wo = _wo_apply(
            pk,
            "requalify",
            user,
            password=password,
            reason=reason,
            after=after,
            changes={"requalified_by": user, "requalified_at": now, "requalification_notes": notes.strip()},
        )
    return wo


def open_faults_without_work_order():
    return FaultReport.objects.filter(status=FaultStatus.OPEN).select_related("equipment", "reported_by")


__all__ = [
    "fault_report",
    "fault_dismiss",
    "workorder_create",
    "workorder_start",
    "workorder_complete",
    "workorder_requalify",
    "open_faults_without_work_order",
]
