"""Role grant requests: the list of requests and the signed decision on one (as change requests)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from administration.forms import SignedDecisionForm
from administration.models import ROLE_REQUEST_MACHINE, RoleRequest, RoleRequestStatus
from administration.services.roles import role_request_approve, role_request_reject, role_request_withdraw
from audit.signatures import SignatureError
from mes.roles import role_label

VIEW = "administration.view_rolerequest"

_DECISIONS = {
    "approve": lambda user, pk, data: role_request_approve(
        user=user, request_id=pk, password=data["password"], reason=data["reason"]
    ),
    "reject": lambda user, pk, data: role_request_reject(
        user=user, request_id=pk, password=data["password"], reason=data["reason"]
    ),
    "withdraw": lambda user, pk, data: role_request_withdraw(user=user, request_id=pk, reason=data["reason"]),
}


@permission_required(VIEW, raise_exception=True)
def role_request_list(request):
    status = request.GET.get("status", RoleRequestStatus.PROPOSED)
    rows = RoleRequest.objects.select_related("user", "requested_by", "decided_by")
    if status in RoleRequestStatus.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "administration/role_request_list.html",
        {"rows": rows[:200], "status": status, "statuses": RoleRequestStatus.choices},
    )


@permission_required(VIEW, raise_exception=True)
def role_request_detail(request, pk: int):
    row = get_object_or_404(RoleRequest.objects.select_related("user", "requested_by", "decided_by"), pk=pk)
    if request.method == "POST":
        form = SignedDecisionForm(request.POST)
        if form.is_valid():
            try:
                _DECISIONS[form.cleaned_data["action"]](request.user, row.pk, form.cleaned_data)
            except (ValidationError, SignatureError, PermissionDenied) as exc:
                for message in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
                    messages.error(request, message)
            else:
                messages.success(request, _("Decision recorded."))
        return redirect("administration:role_request_detail", pk=row.pk)
    actions = ROLE_REQUEST_MACHINE.available(row, request.user)
    if request.user.pk in (row.requested_by_id, row.user_id):
        actions = [a for a in actions if a.name == "withdraw"]  # never one's own request or role
    return render(
        request,
        "administration/role_request_detail.html",
        {
            "row": row,
            "role": role_label(row.role),
            "actions": actions,
            "signed": any(a.signature for a in actions),
        },
    )
