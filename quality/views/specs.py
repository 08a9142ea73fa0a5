"""Specification pages: list, detail with test items, create, edit items, submit/approve/retire."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quality import services
from quality.forms import SignatureForm, SpecCreateForm, TestItemForm
from quality.models import SPEC_MACHINE, InspectionType, Specification, SpecStatus
from quality.models.specs import SPEC_INTERNAL
from quality.views.common import apply_form_errors, run_service

VIEW = "quality.view_specification"


@permission_required(VIEW, raise_exception=True)
def spec_list(request):
    qs = Specification.objects.select_related("material", "author", "approved_by").order_by(
        "material__code", "inspection_type", "-version"
    )
    status = request.GET.get("status", "current")
    if status == "current":
        qs = qs.filter(status__in=(SpecStatus.DRAFT, SpecStatus.IN_REVIEW, SpecStatus.EFFECTIVE))
    elif status in SpecStatus.values:
        qs = qs.filter(status=status)
    itype = request.GET.get("type", "")
    if itype in InspectionType.values:
        qs = qs.filter(inspection_type=itype)
    return render(
        request,
        "quality/spec_list.html",
        {
            "specs": qs,
            "status": status,
            "itype": itype,
            "statuses": SpecStatus.choices,
            "types": InspectionType.choices,
        },
    )


@permission_required(VIEW, raise_exception=True)
def spec_detail(request, pk: int):
    spec = get_object_or_404(Specification.objects.select_related("material", "author", "approved_by"), pk=pk)
    items = [i for i in spec.items.all() if not i.removed]
    actions = [t for t in SPEC_MACHINE.available(spec, request.user) if t.name not in SPEC_INTERNAL]
    can_edit = spec.status == SpecStatus.DRAFT and request.user.has_perm("quality.change_specification")
    versions = Specification.objects.filter(material=spec.material, inspection_type=spec.inspection_type).order_by(
        "-version"
    )
    return render(
        request,
        "quality/spec_detail.html",
        {
            "spec": spec,
            "items": items,
            "actions": actions,
            "can_edit": can_edit,
            "item_form": TestItemForm(initial={"sequence": (len(items) + 1) * 10}),
            "versions": versions,
            "can_new_version": request.user.has_perm("quality.add_specification")
            and spec.status in (SpecStatus.EFFECTIVE, SpecStatus.SUPERSEDED, SpecStatus.RETIRED),
        },
    )


@permission_required("quality.add_specification", raise_exception=True)
def spec_create(request):
    form = SpecCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spec = services.spec_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_form_errors(form, exc)
        else:
            messages.success(request, _("Draft specification created. Add its tests."))
            return redirect("quality:spec_detail", pk=spec.pk)
    return render(request, "quality/spec_form.html", {"form": form})


@require_POST
@permission_required("quality.change_specification", raise_exception=True)
def spec_item_add(request, pk: int):
    form = TestItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    else:
        run_service(
            request,
            lambda: services.spec_item_save(user=request.user, spec_id=pk, **form.cleaned_data),
            _("Test added."),
        )
    return redirect("quality:spec_detail", pk=pk)


@require_POST
@permission_required("quality.change_specification", raise_exception=True)
def spec_item_remove(request, pk: int, item_id: int):
    run_service(
        request,
        lambda: services.spec_item_remove(user=request.user, spec_id=pk, item_id=item_id),
        _("Test removed from the draft."),
    )
    return redirect("quality:spec_detail", pk=pk)


SPEC_ACTIONS = {
    "submit": lambda user, pk, d: services.spec_submit(
        user=user, spec_id=pk, password=d["password"], reason=d["reason"]
    ),
    "return": lambda user, pk, d: services.spec_return(user=user, spec_id=pk, reason=d["reason"]),
    "approve": lambda user, pk, d: services.spec_approve(
        user=user, spec_id=pk, password=d["password"], reason=d["reason"]
    ),
    "retire": lambda user, pk, d: services.spec_retire(
        user=user, spec_id=pk, password=d["password"], reason=d["reason"]
    ),
}


@require_POST
@permission_required(VIEW, raise_exception=True)
def spec_action(request, pk: int, action: str):
    if action not in SPEC_ACTIONS:
        raise PermissionDenied
    form = SignatureForm(request.POST)
    form.is_valid()
    label = SPEC_MACHINE.get(action).label
    run_service(
        request, lambda: SPEC_ACTIONS[action](request.user, pk, form.cleaned_data), _("Done: %(a)s.") % {"a": label}
    )
    return redirect("quality:spec_detail", pk=pk)


@require_POST
@permission_required("quality.add_specification", raise_exception=True)
def spec_new_version(request, pk: int):
    spec = run_service(
        request, lambda: services.spec_new_version(user=request.user, spec_id=pk), _("New draft version created.")
    )
    return redirect("quality:spec_detail", pk=spec.pk if spec else pk)
