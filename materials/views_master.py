"""Material master data pages: list, create, change (each calls one service)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from materials.forms_master import MaterialFilterForm, MaterialForm
from materials.models import Material
from materials.services import MATERIAL_FIELDS, material_create, material_update


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@permission_required("materials.view_material", raise_exception=True)
def material_list(request):
    form = MaterialFilterForm(request.GET or None)
    qs = Material.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            qs = qs.filter(
                Q(code__icontains=data["q"]) | Q(name__icontains=data["q"]) | Q(name_zh__icontains=data["q"])
            )
        if data.get("type"):
            qs = qs.filter(type=data["type"])
        if data.get("active"):
            qs = qs.filter(active=data["active"] == "yes")
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(qs.order_by("code"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "materials/material_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_add": request.user.has_perm("materials.add_material"),
            "can_change": request.user.has_perm("materials.change_material"),
        },
    )


def _proposed(request, change):
    messages.success(
        request,
        _("Change request MDC-%(n)05d proposed. It takes effect once another person approves it.") % {"n": change.pk},
    )
    return redirect("administration:masterdata_detail", pk=change.pk)


@permission_required("materials.add_material", raise_exception=True)
def material_create_view(request):
    """A new material is a change request (issue 16): it exists once another person approves it."""
    form = MaterialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in MATERIAL_FIELDS if k in form.cleaned_data}
        try:
            change = material_create(user=request.user, reason=form.cleaned_data.get("reason", ""), **values)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _proposed(request, change)
    return render(request, "materials/material_form.html", {"form": form, "material": None})


@permission_required("materials.change_material", raise_exception=True)
def material_edit(request, pk: int):
    """A change of a material is a change request: the record is untouched until it is approved."""
    material = get_object_or_404(Material, pk=pk)
    form = MaterialForm(request.POST or None, instance=material, editing=True)
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in MATERIAL_FIELDS if k in form.cleaned_data and k != "code"}
        try:
            change = material_update(
                user=request.user, material_id=material.pk, reason=form.cleaned_data.get("reason", ""), **values
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _proposed(request, change)
    return render(request, "materials/material_form.html", {"form": form, "material": material})
