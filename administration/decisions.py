"""The signed decision on a request (configuration change, role grant, master-data change): one shape.

Each page maps the action names to its service functions; `decision_post` validates the form,
calls the service and reports the outcome; `decision_actions` offers only what the user may do,
never approving one's own request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from administration.forms import SignedDecisionForm
from audit.signatures import SignatureError

Decisions = dict[str, Callable]


def decision_post(request, decisions: Decisions, pk: int) -> bool:
    """Apply the posted decision; True when it was recorded (errors are shown as messages)."""
    form = SignedDecisionForm(request.POST)
    if not form.is_valid() or form.cleaned_data["action"] not in decisions:
        messages.error(request, _("Choose an action."))
        return False
    try:
        decisions[form.cleaned_data["action"]](request.user, pk, form.cleaned_data)
    except (ValidationError, SignatureError, PermissionDenied) as exc:
        for message in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
            messages.error(request, message)
        return False
    messages.success(request, _("Decision recorded."))
    return True


def decision_actions(machine, obj, user, *, own: bool) -> list:
    """The transitions offered: the proposer may only withdraw, anyone else never withdraws."""
    actions = machine.available(obj, user)
    if own:
        return [a for a in actions if a.name == "withdraw"]
    return [a for a in actions if a.name != "withdraw"]


def signed_decisions(approve, reject, withdraw, key: str = "change_id") -> Decisions:
    """The three decisions of a request, mapped to its services."""
    return {
        "approve": lambda user, pk, data: approve(
            user=user, **{key: pk}, password=data["password"], reason=data["reason"]
        ),
        "reject": lambda user, pk, data: reject(
            user=user, **{key: pk}, password=data["password"], reason=data["reason"]
        ),
        "withdraw": lambda user, pk, data: withdraw(user=user, **{key: pk}, reason=data["reason"]),
    }
