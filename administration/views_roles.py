"""Role grant requests: the list of requests and the signed decision on one (as change requests)."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render

from administration.decisions import decision_post, signed_decisions
from administration.models import ROLE_REQUEST_MACHINE, RoleRequest, RoleRequestStatus
from administration.services.roles import role_request_approve, role_request_reject, role_request_withdraw
from mes.roles import role_label

VIEW = "administration.view_rolerequest"

_DECISIONS = signed_decisions(role_request_approve, role_request_reject, role_request_withdraw, key="request_id")


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
        decision_post(request, _DECISIONS, row.pk)
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
