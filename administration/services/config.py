"""Configuration change control (CFG-1, CFG-2): propose -> approve (signed, another person) -> effective.

A pending, rejected or withdrawn request has no effect: only `config_change_approve` writes the
parameter's value, in the same transaction as the signed state change, and bumps its version. The
request keeps the old value, so the history of a parameter is its effective requests in order.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from administration.models import CHANGE_MACHINE, ChangeStatus, ConfigChange, ConfigParameter
from audit.context import audit_context
from mes.config import (
    config_invalidate,
    default_value,
    format_value,
    parameter_def,
    parse_value,
)
from mes.workflow import transition_apply, user_may


def value_in_force_text(parameter: ConfigParameter) -> str:
    """The value the system uses now, as text (the settings default until a change was approved)."""
    definition = parameter_def(parameter.name)
    if parameter.is_set:
        return parameter.value
    return format_value(definition, default_value(definition))


def config_propose(*, user, parameter_id: int, new_value: str, reason: str) -> ConfigChange:
    """Propose a new value for a parameter. It has no effect until another person approves it."""
    if not user_may(user, "administration.propose_configchange"):
        raise PermissionDenied(_("You may not propose configuration changes."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the change."))
    with transaction.atomic():
        parameter = ConfigParameter.objects.select_for_update().get(pk=parameter_id)
        definition = parameter_def(parameter.name)
        canonical = format_value(definition, parse_value(definition, new_value))
        current = value_in_force_text(parameter)
        if canonical == current:
            raise ValidationError(_("The new value is the same as the value in force."))
        with audit_context(actor=user, action="administration.configchange.propose", reason=reason):
            return ConfigChange.objects.create(
                parameter=parameter,
                old_value=current,
                new_value=canonical,
                base_version=parameter.version,
                reason=reason,
                proposed_by=user,
                proposed_at=timezone.now(),
            )


def config_change_approve(*, user, change_id: int, password: str, reason: str = "") -> ConfigChange:
    """Approve (signed) a proposed change; the new value takes effect at once, as a new version."""

    def guard(change: ConfigChange) -> None:
        if change.proposed_by_id == user.pk:
            raise ValidationError(_("A change must be approved by someone other than the person who proposed it."))
        parameter = ConfigParameter.objects.select_for_update().get(pk=change.parameter_id)
        if parameter.version != change.base_version:
            raise ValidationError(
                _("The parameter has changed since this request was proposed. Reject it and propose again.")
            )
        definition = parameter_def(parameter.name)
        parse_value(definition, change.new_value)  # the range may have changed since the proposal

    def after(change: ConfigChange) -> None:
        parameter = ConfigParameter.objects.select_for_update().get(pk=change.parameter_id)
        parameter.value = change.new_value
        parameter.is_set = True
        parameter.version = change.base_version + 1
        parameter.effective_at = change.decided_at
        with audit_context(actor=user, action="administration.configparameter.change", reason=change.reason):
            parameter.save()
        config_invalidate()  # this process (and a test's transaction) sees the new value at once
        transaction.on_commit(config_invalidate)  # and every process once it is committed

    # Refused before the password is asked, whatever roles the proposer holds (checked again on the locked row).
    if ConfigChange.objects.filter(pk=change_id, proposed_by_id=user.pk).exists():
        raise ValidationError(_("A change must be approved by someone other than the person who proposed it."))
    return _decide(user, change_id, "approve", password, reason, guard, after, timezone.now())


def config_change_reject(*, user, change_id: int, password: str, reason: str) -> ConfigChange:
    """Reject (signed, with reason) a proposed change. The parameter is not touched."""
    return _decide(user, change_id, "reject", password, reason, None, None, timezone.now())


def config_change_withdraw(*, user, change_id: int, reason: str) -> ConfigChange:
    """The proposer withdraws a request that is still pending."""

    def guard(change: ConfigChange) -> None:
        if change.proposed_by_id != user.pk:
            raise ValidationError(_("Only the person who proposed a change can withdraw it."))

    return _decide(user, change_id, "withdraw", None, reason, guard, None, timezone.now())


def _decide(user, change_id, name, password, reason, guard, after, now) -> ConfigChange:
    changes = {"decided_by": user, "decided_at": now, "decision_comment": (reason or "").strip()}
    if name == "approve":
        base = ConfigChange.objects.filter(pk=change_id).values_list("base_version", flat=True).first()
        changes["version"] = (base or 0) + 1
    return transition_apply(
        model=ConfigChange,
        pk=change_id,
        machine=CHANGE_MACHINE,
        name=name,
        user=user,
        reason=reason,
        password=password,
        guard=guard,
        changes=changes,
        after=after,
    )


def pending_changes():
    return ConfigChange.objects.filter(status=ChangeStatus.PROPOSED).select_related("parameter", "proposed_by")
