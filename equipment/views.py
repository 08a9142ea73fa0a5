"""Equipment pages: status board, detail with logbook, actions, work-order queue, due lists, OEE.

Views are thin: a form validates input and one service does the work. Errors from services
(ValidationError, PermissionDenied, SignatureError) are shown to the user in their words.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.signatures import SignatureError
from equipment import selectors, services
from equipment.forms import (
    BoardFilterForm,
    CalibrationForm,
    CleaningFinishForm,
    CleaningStartForm,
    DailyCheckForm,
    FaultForm,
    PeriodForm,
    ReasonForm,
    RequalifyForm,
    WorkOrderCompleteForm,
)
from equipment.models import (
    Equipment,
    EquipmentStatus,
    FaultReport,
    FaultStatus,
    LogbookEntry,
    TagReading,
    TagState,
    WorkOrder,
    WorkOrderStatus,
)
from equipment.services.care import checklist_for, cleaning_in_progress
from equipment.services.oee import Oee, oee_for_equipment
from equipment.services.status import usability_evaluate, usability_queryset, who_made_awaiting_requalification
from mes.models import Line

VIEW = "equipment.view_equipment"
S = EquipmentStatus
ACTION_ERRORS = (ValidationError, PermissionDenied, SignatureError)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You are not allowed to do this.")


def _run(request, action, success: str):
    """Call a service; on success flash `success`, on a refusal flash its reason. Returns ok."""
    try:
        action()
    except ACTION_ERRORS as exc:
        messages.error(request, _error_text(exc))
        return False
    messages.success(request, success)
    return True


# --- status board --------------------------------------------------------------------------
def _board_context(request):
    form = BoardFilterForm(request.GET or None)
    line = form.cleaned_data.get("line") if form.is_valid() else None
    tiles = selectors.board(line)
    return {
        "form": form,
        "groups": selectors.board_groups(tiles),
        "tiles": tiles,
        "line": line,
        "query": request.GET.urlencode(),
    }


@permission_required(VIEW, raise_exception=True)
def board(request):
    return render(request, "equipment/board.html", _board_context(request))


@permission_required(VIEW, raise_exception=True)
def board_tiles(request):
    """The board's tiles only: htmx polls this (with X-MES-Background, so it is not user activity)."""
    return render(request, "equipment/_board_tiles.html", _board_context(request))


# --- detail ----------------------------------------------------------------------------------
@permission_required(VIEW, raise_exception=True)
def detail(request, pk: int):
    eq = get_object_or_404(usability_queryset(), pk=pk)
    logbook = (
        LogbookEntry.objects.filter(equipment=eq).select_related("user", "batch", "product").order_by("-at", "-id")
    )
    page = Paginator(logbook, 30).get_page(request.GET.get("page"))
    latest = {}
    tag_errors = dict(
        TagState.objects.filter(tag__equipment=eq, tag__active=True).exclude(error="").values_list("tag_id", "error")
    )
    for tag in eq.tags.filter(active=True).order_by("id"):
        tag.capture_error = tag_errors.get(tag.pk, "")
        latest[tag.pk] = (tag, None)
    if latest:
        # the newest reading of each tag: one query per page (tags of one equipment, bounded)
        # (receipt order: a machine clock that jumped cannot make an old value look newest)
        for r in TagReading.objects.filter(tag_id__in=list(latest)).order_by("tag_id", "-id"):
            if latest[r.tag_id][1] is None:
                latest[r.tag_id] = (latest[r.tag_id][0], r)
            if all(v[1] for v in latest.values()):
                break
    context = {
        "eq": eq,
        "usability": usability_evaluate(eq),
        "page": page,
        "faults": eq.faults.filter(status__in=[FaultStatus.OPEN, FaultStatus.IN_REPAIR]).order_by("reported_at"),
        "work_orders": eq.work_orders.exclude(status=WorkOrderStatus.CLOSED).select_related("fault"),
        "readings": list(latest.values()),
        "capture_alerts": eq.capture_alerts.filter(cleared_at__isnull=True).order_by("raised_at"),
        "cleaning": cleaning_in_progress(eq) if eq.status == S.CLEANING else None,
        "cleanings": eq.cleanings.select_related("started_by", "finished_by")[:5],
        "calibrations": eq.calibrations.select_related("performed_by")[:5],
        "checks": eq.daily_checks.select_related("performed_by")[:5],
        "has_checklist": bool(checklist_for(eq)),
    }
    return render(request, "equipment/detail.html", context)


@require_POST
@permission_required("equipment.use_equipment", raise_exception=True)
def end_use(request, pk: int):
    eq = get_object_or_404(Equipment, pk=pk)
    _run(
        request,
        lambda: services.equipment_end_use(equipment=eq, user=request.user),
        _("%(code)s shut down; it is now dirty and must be cleaned.") % {"code": eq.code},
    )
    return redirect("equipment:detail", pk=pk)


def _action_form(request, eq, form, action, success: str, context: dict, *, done=None):
    """An equipment action page: a valid POST runs `action(cleaned_data)` (the outcome is flashed) and
    goes to `done` (the equipment by default); otherwise the form is shown (again) with `context`."""
    if request.method == "POST" and form.is_valid() and _run(request, lambda: action(form.cleaned_data), success):
        return redirect(*(done or ("equipment:detail", eq.pk)))
    return render(request, "equipment/action_form.html", {"eq": eq, "form": form, **context})


def _signed(title: str, submit: str, meaning: str, **extra) -> dict:
    """The context of an action form that is signed (password and reason are the signature's fields)."""
    return {"title": title, "submit": submit, "signature": meaning, "exclude": ("password", "reason"), **extra}


@permission_required("equipment.clean_equipment", raise_exception=True)
def cleaning_start(request, pk: int):
    eq = get_object_or_404(Equipment.objects.select_related("last_product"), pk=pk)
    return _action_form(
        request,
        eq,
        CleaningStartForm(request.POST or None),
        lambda data: services.equipment_cleaning_start(equipment=eq, user=request.user, **data),
        _("Cleaning of %(code)s started.") % {"code": eq.code},
        {"title": _("Start cleaning"), "submit": _("Start cleaning")},
    )


@permission_required("equipment.clean_equipment", raise_exception=True)
def cleaning_finish(request, pk: int):
    eq = get_object_or_404(Equipment.objects.select_related("last_product"), pk=pk)
    record = cleaning_in_progress(eq)
    return _action_form(
        request,
        eq,
        CleaningFinishForm(request.POST or None),
        lambda data: services.equipment_cleaning_finish(equipment=eq, user=request.user, **data),
        _("Cleaning of %(code)s signed off: it is clean and available.") % {"code": eq.code},
        _signed(_("Sign off cleaning"), _("Sign and release"), _("Cleaning performed"), record=record),
    )


@permission_required("equipment.report_fault", raise_exception=True)
def fault_new(request, pk: int):
    eq = get_object_or_404(Equipment, pk=pk)
    return _action_form(
        request,
        eq,
        FaultForm(request.POST or None),
        lambda data: services.fault_report(equipment=eq, user=request.user, **data),
        _("Fault reported. %(code)s is blocked until it is repaired and requalified.") % {"code": eq.code},
        {"title": _("Report a fault"), "submit": _("Report fault"), "danger": True},
    )


@permission_required("equipment.perform_daily_check", raise_exception=True)
def daily_check(request, pk: int):
    eq = get_object_or_404(Equipment.objects.select_related("equipment_class"), pk=pk)
    form = DailyCheckForm(request.POST or None, items=checklist_for(eq))
    if request.method == "POST" and form.is_valid():
        try:
            check = services.equipment_daily_check_record(
                equipment=eq, user=request.user, answers=form.answers(), remarks=form.cleaned_data["remarks"]
            )
        except ACTION_ERRORS as exc:
            messages.error(request, _error_text(exc))
        else:
            if check.passed:
                messages.success(request, _("Daily check recorded: all items OK."))
            else:
                messages.warning(
                    request,
                    _("Daily check recorded with failed items: %(code)s is blocked and fault %(fault)s was opened.")
                    % {"code": eq.code, "fault": check.fault},
                )
            return redirect("equipment:detail", pk=pk)
    return render(request, "equipment/daily_check.html", {"eq": eq, "form": form})


@permission_required("equipment.calibrate_equipment", raise_exception=True)
def calibration_new(request, pk: int):
    eq = get_object_or_404(Equipment, pk=pk)
    return _action_form(
        request,
        eq,
        CalibrationForm(request.POST or None),
        lambda data: services.equipment_calibration_record(equipment=eq, user=request.user, **data),
        _("Calibration of %(code)s recorded.") % {"code": eq.code},
        _signed(_("Record calibration"), _("Sign and record"), _("Calibration performed")),
    )


@permission_required("equipment.manage_equipment_status", raise_exception=True)
def service_state(request, pk: int, action: str):
    """Take out of service / return to service (reason required)."""
    eq = get_object_or_404(Equipment, pk=pk)
    out = action == "out"
    service = services.equipment_take_out_of_service if out else services.equipment_return_to_service
    title = _("Take out of service") if out else _("Return to service")
    return _action_form(
        request,
        eq,
        ReasonForm(request.POST or None),
        lambda data: service(equipment=eq, user=request.user, reason=data["reason"]),
        _("Taken out of service.") if out else _("Returned to service: it now awaits requalification."),
        {"danger": out, "title": title, "submit": title},
    )


@permission_required("equipment.requalify_equipment", raise_exception=True)
def requalify(request, pk: int):
    """Requalification of equipment returned to service (work-order repairs are requalified on the order)."""
    eq = get_object_or_404(Equipment, pk=pk)
    return _action_form(
        request,
        eq,
        RequalifyForm(request.POST or None),
        lambda data: services.equipment_requalify(equipment=eq, user=request.user, **data),
        _("%(code)s requalified.") % {"code": eq.code},
        _signed(
            _("Requalify"),
            _("Sign and release"),
            _("Requalification approved"),
            performer=who_made_awaiting_requalification(eq),
        ),
    )


# --- maintenance -----------------------------------------------------------------------------
@permission_required(VIEW, raise_exception=True)
def pm_plans(request):
    """Preventive maintenance plans: overdue first (they block use), then due (work order generated)."""
    return render(request, "equipment/pm_plans.html", {"rows": selectors.pm_plan_rows(timezone.localdate())})


@permission_required(VIEW, raise_exception=True)
def workorders(request):
    return render(
        request,
        "equipment/workorders.html",
        {"faults": selectors.open_faults()[:200], "orders": selectors.work_order_queue()[:200]},
    )


@permission_required(VIEW, raise_exception=True)
def workorder_detail(request, pk: int):
    wo = get_object_or_404(
        WorkOrder.objects.select_related(
            "equipment", "fault", "plan", "created_by", "started_by", "completed_by", "requalified_by"
        ),
        pk=pk,
    )
    complete_form = WorkOrderCompleteForm(request.POST or None if request.POST.get("step") == "complete" else None)
    requalify_form = RequalifyForm(request.POST or None if request.POST.get("step") == "requalify" else None)
    if request.method == "POST":
        step = request.POST.get("step")
        if step == "start":
            _run(request, lambda: services.workorder_start(work_order=wo, user=request.user), _("Repair started."))
            return redirect("equipment:workorder_detail", pk=pk)
        if (
            step == "complete"
            and complete_form.is_valid()
            and _run(
                request,
                lambda: services.workorder_complete(work_order=wo, user=request.user, **complete_form.cleaned_data),
                _("Repair completed and signed; the equipment awaits requalification by a second person."),
            )
        ):
            return redirect("equipment:workorder_detail", pk=pk)
        if (
            step == "requalify"
            and requalify_form.is_valid()
            and _run(
                request,
                lambda: services.workorder_requalify(work_order=wo, user=request.user, **requalify_form.cleaned_data),
                _("Requalified and released."),
            )
        ):
            return redirect("equipment:workorder_detail", pk=pk)
    user = request.user
    return render(
        request,
        "equipment/workorder_detail.html",
        {
            "wo": wo,
            "complete_form": complete_form,
            "requalify_form": requalify_form,
            "can_maintain": user.has_perm("equipment.maintain_equipment"),
            "can_requalify": user.has_perm("equipment.requalify_equipment")
            and user.pk not in (wo.completed_by_id, wo.started_by_id),
        },
    )


@require_POST
@permission_required("equipment.maintain_equipment", raise_exception=True)
def workorder_create(request, pk: int):
    fault = get_object_or_404(FaultReport, pk=pk)
    created = {}

    def act():
        created["wo"] = services.workorder_create(fault=fault, user=request.user)

    if _run(request, act, _("Work order opened.")):
        return redirect("equipment:workorder_detail", pk=created["wo"].pk)
    return redirect("equipment:workorders")


@permission_required("equipment.maintain_equipment", raise_exception=True)
def fault_dismiss(request, pk: int):
    fault = get_object_or_404(FaultReport.objects.select_related("equipment"), pk=pk)
    return _action_form(
        request,
        fault.equipment,
        ReasonForm(request.POST or None),
        lambda data: services.fault_dismiss(fault=fault, user=request.user, **data),
        _("Fault dismissed."),
        {"fault": fault, "title": _("Dismiss fault %(n)s") % {"n": fault.number}, "submit": _("Dismiss")},
        done=("equipment:workorders",),
    )


# --- due lists and OEE --------------------------------------------------------------------------
@permission_required(VIEW, raise_exception=True)
def calibration_due(request):
    return render(request, "equipment/calibration_due.html", {"rows": selectors.calibration_due()[:500]})


@permission_required(VIEW, raise_exception=True)
def cleaning_due(request):
    return render(request, "equipment/cleaning_due.html", {"rows": selectors.cleaning_due()[:500]})


@permission_required("equipment.view_oee", raise_exception=True)
def oee(request):
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    equipment = list(Equipment.objects.filter(active=True).select_related("line").order_by("line__code", "code"))
    per = oee_for_equipment(equipment, start, end)
    lines = []
    for line in Line.objects.filter(equipment__active=True).distinct().order_by("code"):
        total = Oee(line.code)
        members = [(eq, per[eq.pk]) for eq in equipment if eq.line_id == line.pk]
        for _eq, item in members:
            total.add(item)
        lines.append((line, total, members))
    return render(request, "equipment/oee.html", {"form": form, "lines": lines, "start": start, "end": end})
