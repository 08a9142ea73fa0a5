"""Release cockpit (each condition met / unmet, QC release, production release) and dispositions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batches.models import Batch, BatchStatus
from batches.services.rework import rework_recipe
from materials.models import Lot
from quality.forms import DispositionForm, SignatureForm
from quality.models import DISPOSITION_MACHINE, BatchRelease, Disposition, ReleaseStatus
from quality.services import dispositions as dsvc
from quality.services import release as rsvc
from quality.views.common import apply_form_errors, run_service

VIEW = "quality.view_batchrelease"
# Batches the cockpit lists: finished production, not yet released (or released in the last steps).
COCKPIT_STATES = (
    BatchStatus.COMPLETED,
    BatchStatus.UNDER_REVIEW,
    BatchStatus.CORRECTION_REQUESTED,
    BatchStatus.REVIEWED,
    BatchStatus.QC_RELEASED,
)


@permission_required(VIEW, raise_exception=True)
def release_list(request):
    batches = (
        Batch.objects.filter(Q(status__in=COCKPIT_STATES) | Q(release__status=ReleaseStatus.QC_RELEASED))
        .exclude(release__status=ReleaseStatus.RELEASED)
        .select_related("product", "release__qc_released_by")
        .prefetch_related("output_lots")
        .order_by("created_at", "pk")
    )
    released = (
        BatchRelease.objects.filter(status=ReleaseStatus.RELEASED)
        .select_related("batch__product", "lot", "qc_released_by", "released_by")
        .order_by("-released_at")[:20]
    )
    return render(request, "quality/release_list.html", {"batches": batches, "released": released})


@permission_required(VIEW, raise_exception=True)
def release_detail(request, pk: int):
    batch = get_object_or_404(Batch.objects.select_related("product"), pk=pk)
    release = BatchRelease.objects.filter(batch=batch).select_related("qc_released_by", "released_by", "lot").first()
    conditions = rsvc.batch_release_check(batch)
    all_met = all(c.met for c in conditions)
    user = request.user
    can_qc = release is None and all_met and user.has_perm("quality.qc_release_batch")
    can_prod = (
        release is not None
        and release.status == ReleaseStatus.QC_RELEASED
        and user.has_perm("quality.production_release_batch")
        and release.qc_released_by_id != user.pk
    )
    return render(
        request,
        "quality/release_detail.html",
        {
            "batch": batch,
            "release": release,
            "lot": rsvc.output_lot(batch),
            "conditions": conditions,
            "all_met": all_met,
            "can_qc": can_qc,
            "can_prod": can_prod,
            "same_person": release is not None and release.qc_released_by_id == user.pk,
        },
    )


@require_POST
@permission_required(VIEW, raise_exception=True)
def release_action(request, pk: int, action: str):
    batch = get_object_or_404(Batch, pk=pk)
    form = SignatureForm(request.POST)
    form.is_valid()
    d = form.cleaned_data
    if action == "qc":
        run_service(
            request,
            lambda: rsvc.batch_qc_release(user=request.user, batch=batch, password=d["password"], reason=d["reason"]),
            _("Batch %(b)s QC released. Production release by the supervisor is next.") % {"b": batch.number},
        )
    elif action == "production":
        run_service(
            request,
            lambda: rsvc.batch_production_release(
                user=request.user, batch=batch, password=d["password"], reason=d["reason"]
            ),
            _("Batch %(b)s released: the lot is available for stock and shipping.") % {"b": batch.number},
        )
    else:
        raise PermissionDenied
    return redirect("quality:release_detail", pk=pk)


# --- dispositions --------------------------------------------------------------------------------


@permission_required("quality.view_disposition", raise_exception=True)
def disposition_list(request):
    items = Disposition.objects.select_related("lot__material", "proposed_by", "approved_by", "rework_batch").order_by(
        "-proposed_at"
    )[:200]
    return render(request, "quality/disposition_list.html", {"items": items})


@permission_required("quality.add_disposition", raise_exception=True)
def disposition_create(request, lot_id: int):
    lot = get_object_or_404(Lot.objects.select_related("material"), pk=lot_id)
    form = DispositionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        inspection = lot.inspections.order_by("-pk").first()
        try:
            disposition = dsvc.disposition_propose(
                user=request.user,
                lot=lot,
                inspection_id=inspection.pk if inspection else None,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_form_errors(form, exc)
        else:
            messages.success(request, _("Disposition %(n)s proposed for QA approval.") % {"n": disposition.number})
            return redirect("quality:disposition_detail", pk=disposition.pk)
    return render(request, "quality/disposition_form.html", {"form": form, "lot": lot})


@permission_required("quality.view_disposition", raise_exception=True)
def disposition_detail(request, pk: int):
    disposition = get_object_or_404(
        Disposition.objects.select_related("lot__material", "proposed_by", "approved_by", "done_by", "rework_batch"),
        pk=pk,
    )
    actions = [t for t in DISPOSITION_MACHINE.available(disposition, request.user) if t.name != "rework_started"]
    context = {"d": disposition, "actions": actions}
    if disposition.kind == "rework":
        context["actions"] = [t for t in actions if t.name != "execute"]
        context.update(_rework_context(request, disposition))
    return render(request, "quality/disposition_detail.html", context)


def _rework_context(request, disposition) -> dict:
    """What the supervisor needs to start the rework batch (issue 16): the rework MBR and the operators."""
    if disposition.status != "approved":
        return {}
    may_start = request.user.has_perm("batches.prepare_batch")
    operators = get_user_model().objects.filter(is_active=True, groups__name="operator").order_by("username")
    return {
        "rework_recipe": rework_recipe(disposition.lot.material),
        "can_start_rework": may_start,
        "operators": list(operators) if may_start else [],
    }


DISPOSITION_ACTIONS = {
    "approve": lambda r, pk, d: dsvc.disposition_approve(
        user=r.user, disposition_id=pk, password=d["password"], reason=d["reason"]
    ),
    "execute": lambda r, pk, d: dsvc.disposition_execute(
        user=r.user, disposition_id=pk, password=d["password"], reason=d["reason"]
    ),
    "cancel": lambda r, pk, d: dsvc.disposition_cancel(
        user=r.user, disposition_id=pk, password=d["password"], reason=d["reason"]
    ),
}


@require_POST
@permission_required("quality.view_disposition", raise_exception=True)
def disposition_action(request, pk: int, action: str):
    if action not in DISPOSITION_ACTIONS:
        raise PermissionDenied
    form = SignatureForm(request.POST)
    form.is_valid()
    run_service(request, lambda: DISPOSITION_ACTIONS[action](request, pk, form.cleaned_data), _("Done."))
    return redirect("quality:disposition_detail", pk=pk)
