"""Segregation of duties for roles: no self-grant, incompatible pairs refused, GMP roles by approval.

Nobody grants a role to themselves. A role that lets a person make or approve GMP records (and the
administrator role, which manages accounts) is granted by a request that a second person approves
with an e-signature — a QA manager or another administrator, never the requester nor the person
who receives it — as configuration changes are (services/config.py). A request has no effect until
it is approved. Removing a role takes effect at once (signed and audited by the user service).
The administrator role never goes with QA, QC or operator, whichever is granted first.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from administration.models import ROLE_REQUEST_MACHINE, RoleRequest, RoleRequestStatus
from audit.context import audit_context
from audit.services import audit_record
from mes.roles import ROLES, role_label
from mes.workflow import transition_apply, user_may

User = get_user_model()
MANAGE = "administration.manage_users"

# Granted only through a request approved by a second person.
APPROVAL_ROLES = frozenset({"qa", "qc", "supervisor", "operator", "maintenance", "admin"})
# Never held by one person: whoever manages accounts must not also make or approve GMP records.
INCOMPATIBLE_ROLES = (("admin", "qa"), ("admin", "qc"), ("admin", "operator"))


def roles_incompatibility(roles: Iterable[str]) -> str | None:
    """The refusal text when `roles` contains an incompatible pair, else None."""
    held = set(roles)
    for first, second in INCOMPATIBLE_ROLES:
        if first in held and second in held:
            return _(
                "The roles “%(first)s” and “%(second)s” cannot be held by the same person "
                "(segregation of duties): remove one before granting the other."
            ) % {"first": role_label(first), "second": role_label(second)}
    return None


def roles_check_compatible(roles: Iterable[str]) -> None:
    message = roles_incompatibility(roles)
    if message:
        raise ValidationError(message)


def refuse_self_grant(actor, user_id: int) -> None:
    if actor.pk == user_id:
        raise ValidationError(_("You cannot grant a role to yourself: another administrator must request it."))


def current_roles(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def role_request_create(*, actor, user_id: int, role: str, reason: str) -> RoleRequest:
    """Request that `role` be granted to a person; pending until a second person approves it."""
    if not user_may(actor, MANAGE):
        raise PermissionDenied(_("Only a system administrator can manage users."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for this change."))
    if role not in ROLES:
        raise ValidationError(_("Unknown roles: %(roles)s.") % {"roles": role})
    refuse_self_grant(actor, user_id)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if not user.is_active:
            raise ValidationError(_("A deactivated account cannot receive a role."))
        held = current_roles(user)
        if role in held:
            raise ValidationError(_("The person already holds this role."))
        if RoleRequest.objects.filter(user=user, role=role, status=RoleRequestStatus.PROPOSED).exists():
            raise ValidationError(_("A request for this role is already waiting for approval."))
        roles_check_compatible(held | {role})
        with audit_context(actor=actor, action="auth.role_request.propose", reason=reason):
            return RoleRequest.objects.create(
                user=user, role=role, reason=reason, requested_by=actor, requested_at=timezone.now()
            )


def _refuse_interested(user, request: RoleRequest) -> None:
    if request.requested_by_id == user.pk:
        raise ValidationError(_("A role grant must be approved by someone other than the person who requested it."))
    if request.user_id == user.pk:
        raise ValidationError(_("You cannot approve a role for yourself."))


def role_request_approve(*, user, request_id: int, password: str, reason: str = "") -> RoleRequest:
    """Approve (signed) a role grant: the person holds the role from now on."""

    def guard(request: RoleRequest) -> None:
        _refuse_interested(user, request)
        grantee = User.objects.select_for_update().get(pk=request.user_id)
        if not grantee.is_active:
            raise ValidationError(_("A deactivated account cannot receive a role."))
        roles_check_compatible(current_roles(grantee) | {request.role})  # roles may have changed since

    def after(request: RoleRequest) -> None:
        grantee = User.objects.get(pk=request.user_id)
        before = sorted(current_roles(grantee))
        with audit_context(actor=user, action="auth.user.grant_role", reason=request.reason):
            grantee.groups.add(Group.objects.get(name=request.role))
            if request.role == "admin" and not grantee.is_staff:
                grantee.is_staff = True
                grantee.save(update_fields=["is_staff"])
        audit_record(
            action="auth.user.grant_role",
            actor=user,
            obj=grantee,
            old={"roles": before},
            new={"roles": sorted({*before, request.role}), "request": request.pk},
            reason=request.reason,
        )

    # Refused before the password is asked (and checked again on the locked row).
    pending = RoleRequest.objects.filter(pk=request_id).first()
    if pending is not None:
        _refuse_interested(user, pending)
    return _decide(user, request_id, "approve", password, reason, guard, after)


def role_request_reject(*, user, request_id: int, password: str, reason: str) -> RoleRequest:
    """Reject (signed, with reason) a role grant. The person's roles are not touched."""

    def guard(request: RoleRequest) -> None:
        if request.user_id == user.pk:
            raise ValidationError(_("You cannot decide on a role for yourself."))

    return _decide(user, request_id, "reject", password, reason, guard, None)


def role_request_withdraw(*, user, request_id: int, reason: str) -> RoleRequest:
    """The requester (or another administrator) withdraws a pending request."""
    return _decide(user, request_id, "withdraw", None, reason, None, None)


def _decide(user, request_id, name, password, reason, guard, after) -> RoleRequest:
    changes = {"decided_by": user, "decided_at": timezone.now(), "decision_comment": (reason or "").strip()}
    return transition_apply(
        model=RoleRequest,
        pk=request_id,
        machine=ROLE_REQUEST_MACHINE,
        name=name,
        user=user,
        reason=reason,
        password=password,
        guard=guard,
        changes=changes,
        after=after,
    )


def pending_role_requests():
    return RoleRequest.objects.filter(status=RoleRequestStatus.PROPOSED).select_related("user", "requested_by")
