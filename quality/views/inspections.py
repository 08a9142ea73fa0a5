"""QC pages: the inspector's worklist, inspection detail with results entry, lot decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from materials.models import Lot, LotStatus
from quality.forms import CompleteForm, InspectionCreateForm, SampleForm, SignatureForm
from quality.models import Inspection, InspectionStatus, LimitKind, Result
from quality.services import inspections as svc
from quality.views.common import apply_form_errors, error_text, run_service

VIEW = "quality.view_inspection"


@permission_required(VIEW, raise_exception=True)
def worklist(request):
    """Inspections due or in testing, oldest due first; lots in quarantine with no inspection; decisions waiting."""
    base = Inspection.objects.select_related("lot__material", "specification", "batch")
    open_ = base.filter(status__in=(InspectionStatus.DUE, InspectionStatus.IN_TESTING)).order_by("due_date", "pk")
    undecided = base.filter(
        status__in=(InspectionStatus.PASSED, InspectionStatus.FAILED), lot_decision="", lot__produced_by__isnull=True
    ).order_by("completed_at")
    uninspected = (
        Lot.objects.filter(status=LotStatus.QUARANTINE, inspections__isnull=True)
        .select_related("material")
        .order_by("received_at")[:50]
    )
    return render(
        request,
        "quality/worklist.html",
        {"open": open_, "undecided": undecided, "uninspected": uninspected, "create_form": InspectionCreateForm()},
    )


@permission_required("quality.add_inspection", raise_exception=True)
def inspection_create(request):
    form = InspectionCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lot = Lot.objects.filter(code__iexact=form.cleaned_data["lot_code"].strip()).first()
        if lot is None:
            form.add_error("lot_code", _("No lot with this number."))
        else:
            try:
                inspection = svc.inspection_create(
                    user=request.user, lot=lot, inspection_type=form.cleaned_data["inspection_type"]
                )
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                messages.success(request, _("Inspection %(n)s created.") % {"n": inspection.number})
                return redirect("quality:inspection_detail", pk=inspection.pk)
    return render(request, "quality/inspection_form.html", {"form": form})


def _rows(inspection: Inspection, results: list[Result]) -> list[dict]:
    """One row per test: the item, its current result, and the superseded (corrected) results."""
    rows = []
    for item in inspection.specification.items.all():
        if item.removed:
            continue
        mine = [r for r in results if r.item_id == item.pk]
        current = next((r for r in mine if r.current), None)
        rows.append({"item": item, "current": current, "history": [r for r in mine if not r.current]})
    return rows


@permission_required(VIEW, raise_exception=True)
def inspection_detail(request, pk: int):
    inspection = get_object_or_404(
        Inspection.objects.select_related(
            "lot__material", "specification", "batch", "created_by", "completed_by"
        ).prefetch_related("specification__items", "samples__taken_by"),
        pk=pk,
    )
    results = list(
        Result.objects.filter(inspection=inspection).select_related("entered_by", "deviation").order_by("pk")
    )
    can_enter = inspection.is_open and request.user.has_perm("quality.enter_result")
    can_decide = request.user.has_perm("quality.complete_inspection")
    return render(
        request,
        "quality/inspection_detail.html",
        {
            "inspection": inspection,
            "rows": _rows(inspection, results),
            "samples": list(inspection.samples.all()),
            "can_enter": can_enter,
            "can_complete": can_enter and can_decide,
            "can_decide": can_decide
            and not inspection.lot_decision
            and inspection.lot.produced_by_id is None
            and inspection.status in (InspectionStatus.PASSED, InspectionStatus.FAILED),
            "sample_form": SampleForm(initial={"unit": "g"}),
            "complete_form": CompleteForm(),
            "numeric": LimitKind.NUMERIC,
            "oos_count": sum(1 for r in results if r.current and not r.conforms),
        },
    )


def _result_input(request, item_kind: str) -> dict:
    if item_kind == LimitKind.NUMERIC:
        return {"value": request.POST.get("value", "").strip()}
    choice = request.POST.get("passed", "")
    return {"passed": {"1": True, "0": False}.get(choice), "text": request.POST.get("text", "")}


@require_POST
@permission_required("quality.enter_result", raise_exception=True)
def result_enter(request, pk: int, item_id: int):
    inspection = get_object_or_404(Inspection, pk=pk)
    item = get_object_or_404(inspection.specification.items, pk=item_id)
    try:
        result = svc.result_enter(
            user=request.user, inspection_id=pk, item_id=item_id, **_result_input(request, item.kind)
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    else:
        if result.conforms:
            messages.success(request, _("%(test)s recorded: within specification.") % {"test": item.display_name})
        else:
            messages.error(
                request,
                _("%(test)s is OUT OF SPECIFICATION. Deviation %(n)s has been opened.")
                % {"test": item.display_name, "n": result.deviation.number},
            )
    return redirect("quality:inspection_detail", pk=pk)


@require_POST
@permission_required("quality.enter_result", raise_exception=True)
def result_correct(request, pk: int, result_id: int):
    result = get_object_or_404(Result.objects.select_related("item"), pk=result_id, inspection_id=pk)
    run_service(
        request,
        lambda: svc.result_correct(
            user=request.user,
            result_id=result_id,
            reason=request.POST.get("reason", ""),
            **_result_input(request, result.item.kind),
        ),
        _("Result corrected; the previous value is kept."),
    )
    return redirect("quality:inspection_detail", pk=pk)


@require_POST
@permission_required("quality.enter_result", raise_exception=True)
def sample_take(request, pk: int):
    form = SampleForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: svc.sample_take(user=request.user, inspection_id=pk, **form.cleaned_data),
            _("Sample recorded."),
        )
    else:
        messages.error(request, _("Enter the sample quantity and unit."))
    return redirect("quality:inspection_detail", pk=pk)


def _complete(request, pk, d):
    return svc.inspection_complete(
        user=request.user,
        inspection_id=pk,
        password=d["password"],
        conclusion=d.get("conclusion", ""),
        reason=d["reason"],
    )


DECISIONS = {
    "complete": (CompleteForm, _complete),
    "release_lot": (
        SignatureForm,
        lambda r, pk, d: svc.inspection_release_lot(
            user=r.user, inspection_id=pk, password=d["password"], reason=d["reason"]
        ),
    ),
    "reject_lot": (
        SignatureForm,
        lambda r, pk, d: svc.inspection_reject_lot(
            user=r.user, inspection_id=pk, password=d["password"], reason=d["reason"]
        ),
    ),
    "hold_lot": (
        SignatureForm,
        lambda r, pk, d: svc.inspection_hold_lot(user=r.user, inspection_id=pk, reason=d["reason"]),
    ),
    "cancel": (
        SignatureForm,
        lambda r, pk, d: svc.inspection_cancel(
            user=r.user, inspection_id=pk, password=d["password"], reason=d["reason"]
        ),
    ),
}


@require_POST
@permission_required("quality.complete_inspection", raise_exception=True)
def inspection_action(request, pk: int, action: str):
    if action not in DECISIONS:
        raise PermissionDenied
    form_class, call = DECISIONS[action]
    form = form_class(request.POST)
    form.is_valid()
    run_service(request, lambda: call(request, pk, form.cleaned_data), _("Done."))
    return redirect("quality:inspection_detail", pk=pk)
