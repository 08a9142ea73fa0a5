"""Change control for master data: a registry of controlled models and the change-request workflow.

An app declares which of its models' fields are under change control in `<app>/changecontrol.py`,
one line per model:

    CONTROLLED = [controlled("equipment.EquipmentTag", ["node_id", "low_limit", "high_limit", ...])]

Such fields then change only through a MasterDataChange: proposed with a reason (before/after kept),
approved by ANOTHER person with an e-signature, effective on approval (the approval writes the
record in the same transaction). `master_data_check` is the guard every direct save path calls
(the Django admin, an app's master-data service): it refuses a controlled field changed by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.context import audit_context
from audit.models import SignatureMeaning
from mes.models import MasterDataChange, MasterDataChangeStatus
from mes.registry import _app_modules
from mes.workflow import StateMachine, Transition, transition_apply, user_may

PROPOSE, APPROVE = "mes.propose_masterdatachange", "mes.approve_masterdatachange"
St = MasterDataChangeStatus

MASTERDATA_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "approve", (St.PROPOSED,), St.EFFECTIVE, APPROVE, gettext_lazy("Approve (takes effect now)"),
            signature=SignatureMeaning.APPROVED,
        ),
        Transition(
            "reject", (St.PROPOSED,), St.REJECTED, APPROVE, gettext_lazy("Reject"),
            signature=SignatureMeaning.REJECTED, reason_required=True, style="danger",
        ),
        Transition(
            "withdraw", (St.PROPOSED,), St.WITHDRAWN, PROPOSE, gettext_lazy("Withdraw"),
            reason_required=True, style="secondary",
        ),
    ],
)  # fmt: skip


@dataclass(frozen=True)
class Controlled:
    """One model under change control: its label ("app.Model") and the controlled fields."""

    label: str
    fields: tuple[str, ...]

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def key(self) -> str:
        return self.label.lower()


_REGISTRY: dict[str, Controlled] = {}


def controlled(label: str, fields: Iterable[str]) -> Controlled:
    """Declare `label`'s `fields` controlled (the one line an app writes per model)."""
    entry = Controlled(label, tuple(fields))
    _REGISTRY[entry.key] = entry
    return entry


def registry() -> dict[str, Controlled]:
    """Every controlled model, from each app's `changecontrol` module (loaded once)."""
    if not _REGISTRY.get("__loaded__"):
        for _config, module in _app_modules("changecontrol"):
            for entry in getattr(module, "CONTROLLED", []):
                _REGISTRY[entry.key] = entry
        _REGISTRY["__loaded__"] = Controlled("__loaded__", ())
    return {k: v for k, v in _REGISTRY.items() if k != "__loaded__"}


def controlled_for(model_or_obj) -> Controlled | None:
    meta = model_or_obj._meta
    return registry().get(f"{meta.app_label}.{meta.model_name}")


# --- values as text ------------------------------------------------------------------------------
def _field(model, name: str) -> models.Field:
    return model._meta.get_field(name)


def field_text(obj: models.Model, name: str) -> str:
    field = _field(type(obj), name)
    value = getattr(obj, field.attname)
    return "" if value is None else field.value_to_string(obj)


def stored_values(obj: models.Model, names: Iterable[str]) -> dict[str, str]:
    """The controlled fields of the record as stored in the database now (text)."""
    model = type(obj)
    if obj.pk is None:
        return {}
    current = model._base_manager.get(pk=obj.pk)
    return {n: field_text(current, n) for n in names}


def _typed(model, name: str, text: str):
    field = _field(model, name)
    if text == "" and field.null:
        return None
    return field.to_python(text)


def change_display(change: MasterDataChange) -> list[dict]:
    """Rows for the page: field label, before, after (related records by their name)."""
    model = apps.get_model(change.object_type)
    rows = []
    for name, after in change.after.items():
        field = _field(model, name)
        rows.append(
            {
                "name": field.verbose_name,
                "before": _shown(field, change.before.get(name, "")),
                "after": _shown(field, after),
            }
        )
    return rows


def _shown(field: models.Field, text: str) -> str:
    if text and field.is_relation:
        related = field.related_model._base_manager.filter(pk=text).first()
        return str(related) if related else text
    if text and field.choices:
        return str(dict(field.flatchoices).get(_typed(field.model, field.name, text), text))
    return text


# --- the guard of direct saves ----------------------------------------------------------------------
def master_data_check(obj: models.Model) -> None:
    """Refuse saving a controlled record whose controlled fields differ from the database (or a new one)."""
    entry = controlled_for(obj)
    if entry is None:
        return
    if obj.pk is None or obj._state.adding:
        raise ValidationError(
            _("A new %(model)s is created through a change request.") % {"model": obj._meta.verbose_name}
        )
    before = stored_values(obj, entry.fields)
    changed = [n for n in entry.fields if field_text(obj, n) != before[n]]
    if changed:
        names = ", ".join(str(_field(type(obj), n).verbose_name) for n in changed)
        raise ValidationError(
            _("%(fields)s are under change control: propose a change request, approved by another person.")
            % {"fields": names}
        )


# --- the workflow -----------------------------------------------------------------------------
def masterdata_propose(*, user, obj: models.Model, reason: str) -> MasterDataChange:
    """Propose the controlled values held by `obj` (unsaved: an edited copy, or a new record)."""
    if not user_may(user, PROPOSE):
        raise PermissionDenied(_("You may not propose master data changes."))
    entry = controlled_for(obj)
    if entry is None:
        raise ValueError(f"{obj._meta.label} is not under change control")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the change."))
    new = obj.pk is None or obj._state.adding
    before = {} if new else stored_values(obj, entry.fields)
    after = {n: field_text(obj, n) for n in entry.fields}
    if not new:
        after = {n: v for n, v in after.items() if v != before[n]}
        before = {n: before[n] for n in after}
    if not after:
        raise ValidationError(_("Nothing to change: the proposed values are the values in force."))
    if new:
        obj.full_clean(validate_unique=True)
    with transaction.atomic(), audit_context(actor=user, action="mes.masterdatachange.propose", reason=reason[:100]):
        return MasterDataChange.objects.create(
            object_type=obj._meta.label_lower, object_id="" if new else str(obj.pk), object_repr=_describe(obj),
            before=before, after=after, reason=reason, proposed_by=user, proposed_at=timezone.now(),
        )  # fmt: skip


def _describe(obj: models.Model) -> str:
    """The record as the change list names it: its kind and its name (the tag's equipment code, not its id)."""
    text = str(obj)
    equipment = getattr(obj, "equipment", None) if hasattr(obj, "equipment_id") else None
    if equipment is not None and hasattr(obj, "key"):
        text = f"{equipment.code} · {obj.key}"
    return f"{capfirst(obj._meta.verbose_name)} {text}"[:200]


def masterdata_change_approve(*, user, change_id: int, password: str, reason: str = "") -> MasterDataChange:
    """Approve (signed, never one's own proposal): the new values are written to the record now."""
    if MasterDataChange.objects.filter(pk=change_id, proposed_by_id=user.pk).exists():
        raise ValidationError(_("A change must be approved by someone other than the person who proposed it."))

    def guard(change: MasterDataChange) -> None:
        if change.proposed_by_id == user.pk:
            raise ValidationError(_("A change must be approved by someone other than the person who proposed it."))

    return _decide(user, change_id, "approve", password, reason, guard, lambda c: _apply(user, c))


def masterdata_change_reject(*, user, change_id: int, password: str, reason: str) -> MasterDataChange:
    """Reject (signed, with a reason): the record is not touched."""
    return _decide(user, change_id, "reject", password, reason, None, None)


def masterdata_change_withdraw(*, user, change_id: int, reason: str) -> MasterDataChange:
    """The proposer withdraws a request still waiting."""

    def guard(change: MasterDataChange) -> None:
        if change.proposed_by_id != user.pk:
            raise ValidationError(_("Only the person who proposed a change can withdraw it."))

    return _decide(user, change_id, "withdraw", None, reason, guard, None)


def _decide(user, change_id, name, password, reason, guard, after) -> MasterDataChange:
    changes = {"decided_by": user, "decided_at": timezone.now(), "decision_comment": (reason or "").strip()}
    return transition_apply(
        model=MasterDataChange, pk=change_id, machine=MASTERDATA_MACHINE, name=name, user=user, reason=reason,
        password=password, guard=guard, changes=changes, after=after,
    )  # fmt: skip


def _apply(user, change: MasterDataChange) -> None:
    """Write the approved values (the record must still hold the values the request was based on)."""
    model = apps.get_model(change.object_type)
    if change.object_id:
        obj = model._base_manager.select_for_update().get(pk=change.object_id)
        now = {n: field_text(obj, n) for n in change.before}
        if now != change.before:
            raise ValidationError(
                _("The record has changed since this request was proposed. Reject it and propose again.")
            )
        verb = "update"
    else:
        obj, verb = model(), "create"
    for name, text in change.after.items():
        setattr(obj, _field(model, name).attname, _typed(model, name, text))
    obj.full_clean()
    with audit_context(actor=user, action=f"{change.object_type}.{verb}", reason=f"MDC-{change.pk:05d}"):
        obj.save()
    if not change.object_id:
        change.object_id, change.object_repr = str(obj.pk), str(obj)[:200]
        with audit_context(actor=user, action="mes.masterdatachange.created", reason=f"MDC-{change.pk:05d}"):
            change.save(update_fields=["object_id", "object_repr"])


def pending_masterdata_changes():
    return MasterDataChange.objects.filter(status=St.PROPOSED).select_related("proposed_by")
