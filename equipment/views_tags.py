"""Tag pages: browse an equipment's OPC UA endpoint and pick a variable as a tag; import tags (CSV)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from equipment.models import Equipment, TagKind
from equipment.opcua.browse import browse
from equipment.services.importing import EQUIPMENT_COLUMNS, equipment_import
from equipment.services.tags import CSV_COLUMNS, equipment_tag_add, equipment_tags_import

ADD = "equipment.add_equipmenttag"


class PickForm(forms.Form):
    node_id = forms.CharField(widget=forms.HiddenInput)
    key = forms.SlugField(label=gettext_lazy("Key"), max_length=40)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TagKind.choices)
    label = forms.CharField(label=gettext_lazy("Label"), max_length=80, required=False)
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=20, required=False)
    reason = forms.CharField(label=gettext_lazy("Reason for the change"), max_length=500)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"), required=False)
    text = forms.CharField(
        label=gettext_lazy("or paste the CSV"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    reason = forms.CharField(label=gettext_lazy("Reason for the change"), max_length=500)


@permission_required(ADD, raise_exception=True)
def tag_browser(request, pk: int):
    """The endpoint's address space, one level at a time; a variable is added as a tag with its data type."""
    eq = get_object_or_404(Equipment, pk=pk)
    node = request.GET.get("node", "")
    form = PickForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            change = equipment_tag_add(user=request.user, equipment=eq, **{k: data[k] for k in PickForm.base_fields})
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(
                request,
                _("Tag %(key)s (%(node)s) proposed as change request MDC-%(id)05d. It takes effect once approved.")
                % {"key": data["key"], "node": data["node_id"], "id": change.pk},
            )
            return redirect("equipment:detail", pk=eq.pk)
    nodes, error = [], ""
    if not eq.opcua_endpoint:
        error = _("This equipment has no OPC UA endpoint.")
    else:
        try:
            nodes = browse(eq.opcua_endpoint, node)
        except ValueError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure to reach the server is shown in words
            error = _("The OPC UA server does not answer (%(error)s).") % {"error": exc.__class__.__name__}
    return render(
        request,
        "equipment/tag_browser.html",
        {"eq": eq, "node": node, "nodes": nodes, "error": error, "form": form, "kinds": TagKind.choices},
    )


@permission_required(ADD, raise_exception=True)
def tag_import(request):
    """Bulk tag import for plants with hundreds of machines: all lines checked, then one change request
    per new or changed tag (all or nothing)."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        text = upload.read().decode("utf-8-sig") if upload else form.cleaned_data["text"]
        result = equipment_tags_import(user=request.user, text=text, reason=form.cleaned_data["reason"])
        if not result.errors:
            messages.success(
                request,
                _("%(n)s change requests proposed (%(u)s tags unchanged). They take effect once approved.")
                % {"n": len(result.proposed), "u": result.unchanged},
            )
            return redirect("administration:masterdata_list")
    return render(request, "equipment/tag_import.html", {"form": form, "result": result, "columns": CSV_COLUMNS})


@permission_required("mes.propose_masterdatachange", raise_exception=True)
def equipment_import_view(request):
    """Bulk equipment import: every line checked, then one change request per new or changed equipment."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        text = upload.read().decode("utf-8-sig") if upload else form.cleaned_data["text"]
        result = equipment_import(user=request.user, text=text, reason=form.cleaned_data["reason"])
        if not result.errors:
            messages.success(
                request,
                _("%(n)s change requests proposed (%(u)s equipment unchanged). They take effect once approved.")
                % {"n": len(result.proposed), "u": result.unchanged},
            )
            return redirect("administration:masterdata_list")
    return render(
        request, "equipment/equipment_import.html", {"form": form, "result": result, "columns": EQUIPMENT_COLUMNS}
    )
