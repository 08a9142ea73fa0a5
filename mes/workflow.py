"""One way to change state: an explicit transition table per stateful model.

Each stateful model declares a `StateMachine` listing its transitions: the action name, the states
it leaves from, the state it goes to, the permission it needs, whether it needs an e-signature
(and its meaning) and whether a reason is required. `transition_apply` is the only code that
writes a state field: it locks the row, checks state, permission, reason and any guard, saves
(the audited save records the action), and signs, all in one transaction. Pages show only the
transitions `StateMachine.available` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission

from audit.context import audit_context, status_change_allowed
from audit.models import AuditEvent
from audit.services import object_label
from audit.signatures import signature_check_password, signature_create
from audit.text_safety import clean_free_text
from mes import permcache


class TransitionNotAllowed(ValidationError):
    """The record is not in a state the action can leave from."""


class AlreadyDone(TransitionNotAllowed):
    """The same person submitted the same action again (a double click, a resent form): nothing more
    happens, and the page says it is already done instead of reporting a conflict. Still a refused
    transition to every caller that does not tell the two apart."""


def action_just_done(obj: models.Model, action: str, user) -> bool:
    """Whether the record's latest audit event is `action`, taken by `user` (so a repeat is no conflict)."""
    latest = (
        AuditEvent.objects.filter(object_type=object_label(obj), object_id=str(obj.pk))
        .exclude(action="signature.sign")
        .order_by("-seq")
        .values_list("action", "actor_id")
        .first()
    )
    return latest is not None and latest == (action, getattr(user, "pk", None))


@dataclass(frozen=True)
class Transition:
    name: str
    source: tuple[str, ...]
    target: str
    permission: str
    label: Any = ""
    signature: str | None = None  # the signature meaning, when the action is signed
    reason_required: bool = False
    style: str = "primary"  # how the page draws the button: primary, secondary, danger


@dataclass
class StateMachine:
    field: str
    transitions: Iterable[Transition]
    by_name: dict[str, Transition] = field(init=False)

    def __post_init__(self) -> None:
        self.transitions = tuple(self.transitions)
        self.by_name = {t.name: t for t in self.transitions}
        if len(self.by_name) != len(self.transitions):
            raise ValueError("transition names must be unique within a state machine")

    def get(self, name: str) -> Transition:
        try:
            return self.by_name[name]
        except KeyError:
            raise TransitionNotAllowed(_("Unknown action “%(name)s”.") % {"name": name}) from None

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]

    def available(self, obj: models.Model, user) -> list[Transition]:
        """Transitions the user may take from the record's current state (for the page)."""
        state = getattr(obj, self.field)
        return [t for t in self.from_state(state) if user_may(user, t.permission, obj)]

    def states(self) -> list[str]:
        seen: list[str] = []
        for t in self.transitions:
            for s in (*t.source, t.target):
                if s not in seen:
                    seen.append(s)
        return seen


def user_may(user, permission: str, obj: models.Model | None = None) -> bool:
    """Role permission, or an object-level grant (django-guardian) on this record."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return permcache.holds(user, permission) or (obj is not None and user.has_perm(permission, obj))


def objects_granted(user, permission: str, queryset: models.QuerySet) -> models.QuerySet:
    """The records of `queryset` on which the user holds `permission` through an object grant (their own
    or their groups'; a role permission does not count), as django-guardian's get_objects_for_user with
    accept_global_perms=False answers, but from the request's grant map (mes.permcache) instead of
    three queries."""
    if user.is_superuser:  # guardian's with_superuser: every record
        return queryset
    return queryset.filter(pk__in=permcache.granted_pks(user, queryset.model, permission.rsplit(".", 1)[-1]))


def object_permission_holders(objects: Iterable[models.Model], codename: str) -> dict[int, list]:
    """{object id: [users granted `codename` on it]} (django-guardian object grants), in two queries,
    for records of one model (for example the operators who may execute each batch of an order)."""
    objects = list(objects)
    if not objects:
        return {}
    grants = (
        UserObjectPermission.objects.filter(
            content_type=ContentType.objects.get_for_model(objects[0]),
            permission__codename=codename,
            object_pk__in=[str(o.pk) for o in objects],
        )
        .select_related("user")
        .order_by("user__username")
    )
    result: dict[int, list] = {o.pk: [] for o in objects}
    for grant in grants:
        result[int(grant.object_pk)].append(grant.user)
    return result


Guard = Callable[[models.Model], None]


def transition_apply(
    *,
    model: type[models.Model],
    pk: Any,
    machine: StateMachine,
    name: str,
    user,
    reason: str = "",
    password: str | None = None,
    guard: Guard | None = None,
    changes: dict[str, Any] | None = None,
    after: Callable[[models.Model], None] | None = None,
) -> models.Model:
    """Take transition `name` on record `pk`, with audit event and (if required) signature.

    `guard(obj)` runs on the locked row and raises ValidationError with the reasons in words.
    `changes` are extra field values written with the state change; `after(obj)` runs in the
    same transaction once the state is saved (to create child records, queue side effects).
    """
    transition = machine.get(name)
    reason = clean_free_text((reason or "").strip())  # refused before the password is asked
    if transition.reason_required and not reason:
        raise ValidationError(_("A reason is required for this action."))
    # Refuse an impossible action before asking for the password (and before counting a failure).
    _check(machine, transition, model._base_manager.get(pk=pk), user, name)
    if transition.signature:
        signature_check_password(user=user, password=password or "", purpose=f"{model._meta.label}.{name}")
    with transaction.atomic():
        obj = model._base_manager.select_for_update().get(pk=pk)
        _check(machine, transition, obj, user, name)
        if guard is not None:
            guard(obj)
        action = f"{object_label(obj)}.{name}"
        for attr, value in (changes or {}).items():
            setattr(obj, attr, value)
        setattr(obj, machine.field, transition.target)
        with audit_context(actor=user, action=action, reason=reason), status_change_allowed(obj):
            obj.save()
            if transition.signature:
                signature_create(signer=user, obj=obj, meaning=transition.signature, reason=reason, action=action)
            if after is not None:
                after(obj)
    return obj


def _check(machine: StateMachine, transition: Transition, obj: models.Model, user, name: str) -> None:
    state = getattr(obj, machine.field)
    if state == transition.target and action_just_done(obj, f"{object_label(obj)}.{name}", user):
        raise AlreadyDone(_("“%(action)s” is already done.") % {"action": transition.label or transition.name})
    if state not in transition.source:
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the record is %(state)s.")
            % {"action": transition.label or transition.name, "state": _state_label(obj, machine.field)}
        )
    if not user_may(user, transition.permission, obj):
        raise PermissionDenied(
            _("You do not have permission to %(action)s this record.")
            % {"action": str(transition.label or transition.name).lower()}
        )


def _state_label(obj: models.Model, field_name: str) -> str:
    display = getattr(obj, f"get_{field_name}_display", None)
    return str(display()) if display else str(getattr(obj, field_name))
