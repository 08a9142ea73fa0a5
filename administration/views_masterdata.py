"""Master-data change requests (mes.changecontrol): propose an edit of a controlled record, decide it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import modelform_factory
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from administration.decisions import decision_actions, decision_post, signed_decisions
from administration.forms import ReasonField
from mes.changecontrol import (
    MASTERDATA_MACHINE,
    PROPOSE,
    change_display,
    masterdata_change_approve,
    masterdata_change_reject,
    masterdata_change_withdraw,
    masterdata_propose,
    registry,
)
from mes.models import MasterDataChange, MasterDataChangeStatus

VIEW = "mes.view_masterdatachange"
DECISIONS = signed_decisions(masterdata_change_approve, masterdata_change_reject, masterdata_change_withdraw)


@permission_required(VIEW, raise_exception=True)
def masterdata_list(request):
    status = request.GET.get("status", MasterDataChangeStatus.PROPOSED)
    rows = MasterDataChange.objects.select_related("proposed_by", "decided_by")
    if status in MasterDataChangeStatus.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "administration/masterdata_list.html",
        {"rows": rows[:200], "status": status, "statuses": MasterDataChangeStatus.choices},
    )


@permission_required(VIEW, raise_exception=True)
def masterdata_detail(request, pk: int):
    change = get_object_or_404(MasterDataChange.objects.select_related("proposed_by", "decided_by"), pk=pk)
    if request.method == "POST":
        decision_post(request, DECISIONS, change.pk)
        return redirect("administration:masterdata_detail", pk=change.pk)
    actions = decision_actions(MASTERDATA_MACHINE, change, request.user, own=change.proposed_by_id == request.user.pk)
    return render(
        request,
        "administration/masterdata_detail.html",
        {
            "change": change,
            "rows": change_display(change),
            "actions": actions,
            "signed": any(a.signature for a in actions),
        },
    )


def _form_class(entry):
    form = modelform_factory(entry.model, fields=list(entry.fields))
    return type("ProposeMasterDataForm", (form,), {"change_reason": ReasonField(_("Reason for the change"))})


@permission_required(PROPOSE, raise_exception=True)
def masterdata_propose_view(request, model: str, pk: int | None = None):
    """Edit a controlled record (or a new one): the values go into a change request, not the record."""
    entry = registry().get(model)
    if entry is None:
        raise Http404
    instance = get_object_or_404(entry.model, pk=pk) if pk is not None else None
    form = _form_class(entry)(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)  # an unsaved copy: the record itself is untouched
        try:
            change = masterdata_propose(user=request.user, obj=obj, reason=form.cleaned_data["change_reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied:
            raise
        else:
            messages.success(request, _("Change request proposed. It takes effect once another person approves it."))
            return redirect("administration:masterdata_detail", pk=change.pk)
    return render(
        request,
        "administration/masterdata_propose.html",
        {"form": form, "instance": instance, "model_name": entry.model._meta.verbose_name},
    )
