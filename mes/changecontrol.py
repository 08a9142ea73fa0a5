"""Change control for master data: a registry of controlled models and the change-request workflow.

An app declares which of its models' fields are under change control in `<app>/changecontrol.py`,
one line per model:

    CONTROLLED = [controlled("equipment.EquipmentTag", ["node_id", "low_limit", "high_limit", ...])]

Such fields then change only through a MasterDataChange: proposed with a reason (before/after kept),
approved by ANOTHER person with an e-signature, effective on approval (the approval writes the
record in the same transaction). `master_data_check` is the guard every direct save path calls
(the Django admin, an app's master-data service): it refuses a controlled field changed by hand.

Three layers hold the rule (docs/administration.md, "Change control"):
- the pages and the Django admin route edits (and new records) into a change request;
- the ORM: a `pre_save` guard on every controlled model refuses an UPDATE that changes a controlled
  field, unless the write runs inside `controlled_writes(why)` (the approval itself, seeds, bench and
  test fixtures). Creating a record through the ORM stays open for seeds and imports; the pages and
  the admin never do it;
- PostgreSQL: a deferred constraint trigger per controlled table (`install_masterdata_guard`, run
  after every migrate) refuses at COMMIT an UPDATE of a controlled column unless a change request
  for that record became effective in the same transaction (its audit event carries the txid). Raw
  SQL as the runtime role is refused there. SQLite (the embedded demo) has only the ORM guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from audit.canonical import jsonable
from audit.context import audit_context
from audit.models import SignatureMeaning
from audit.services import audit_record
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
            "reject", (St.PROPOSED,), St.REJECTED, APPROVE, pgettext_lazy("change request", "Reject"),
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


# --- the ORM guard ---------------------------------------------------------------------------------
class ChangeControlError(ValidationError):
    """A controlled field was written outside an approved change request."""


CONTROLLED_WRITE = "mes.controlled_write"  # the audit action of a write inside controlled_writes()
_WRITES: ContextVar[tuple[str, ...]] = ContextVar("controlled_writes", default=())
_APPROVED: ContextVar[bool] = ContextVar("controlled_writes_approved", default=False)


@contextmanager
def controlled_writes(why: str) -> Iterator[None]:
    """Open the ORM guard for the block, saying why: the approval of a change request ("MDC-00012"),
    seeding the demo, bench and test fixtures. Never for a person's edit: that is a change request."""
    why = (why or "").strip()
    if not why:
        raise ValueError("controlled_writes needs the reason the block may write controlled fields")
    token = _WRITES.set((*_WRITES.get(), why))
    try:
        yield
    finally:
        _WRITES.reset(token)


def controlled_writes_open() -> str | None:
    """Why controlled writes are open now (the innermost reason), or None."""
    stack = _WRITES.get()
    return stack[-1] if stack else None


def _old_values(obj: models.Model, names: tuple[str, ...]) -> dict | None:
    """The canonical values as last loaded (GMPModel keeps them), or as stored when it does not."""
    loaded = obj._audit_old() if hasattr(obj, "_audit_old") else None
    if loaded is not None and all(n in loaded for n in names):
        return loaded
    stored = type(obj)._base_manager.filter(pk=obj.pk).first()
    if stored is None:
        return None
    return {n: jsonable(getattr(stored, _field(type(obj), n).attname)) for n in names}


def controlled_changes(obj: models.Model, entry: Controlled, update_fields=None) -> list[str]:
    """The controlled fields this save would change in the stored row (none for a new row)."""
    names = entry.fields if update_fields is None else tuple(n for n in entry.fields if n in set(update_fields))
    if not names or obj.pk is None:
        return []
    if obj._state.adding and not type(obj)._base_manager.filter(pk=obj.pk).exists():
        return []  # a real INSERT (a hand-built instance with an existing pk would UPDATE that row)
    old = _old_values(obj, names)
    if old is None:
        return []
    model = type(obj)
    return [n for n in names if jsonable(getattr(obj, _field(model, n).attname)) != old.get(n)]


def _guard_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """pre_save of every controlled model: an UPDATE of a controlled field needs an approved change."""
    entry = controlled_for(sender)
    if entry is None:
        return
    if _APPROVED.get():
        return  # the approval of a change request writing it (its own audit event proves it)
    changed = controlled_changes(instance, entry, update_fields)
    why = controlled_writes_open()
    if changed and why:
        # Said in the trail, and what lets this transaction past the database guard (PostgreSQL).
        audit_record(action=CONTROLLED_WRITE, obj=instance, new={"fields": changed}, reason=why[:200])
    elif changed:
        names = ", ".join(str(_field(sender, n).verbose_name) for n in changed)
        raise ChangeControlError(
            _(
                "%(record)s: under change control (%(fields)s). These change only when another person "
                "approves a change request."
            )
            % {"record": capfirst(sender._meta.verbose_name), "fields": names}
        )


def connect_guards() -> None:
    """Connect the ORM guard to every registered controlled model (MesConfig.ready)."""
    for entry in registry().values():
        pre_save.connect(_guard_save, sender=entry.model, dispatch_uid=f"changecontrol.{entry.key}")


# --- the database guard (PostgreSQL) -------------------------------------------------------------------
# A deferred constraint trigger per controlled table, generated from the registry after every migrate
# (as audit.db does for the audited-write guard): when the transaction commits, an UPDATE that changed a
# controlled column must belong to a transaction in which a change request for that record became
# effective. The proof is the change's own audit event moving it to "effective": the audit chain's link
# trigger (SECURITY DEFINER, audit.db) stamps each event with the inserting transaction, which the
# runtime role cannot forge. A write inside controlled_writes(why) (seeds, fixtures) is accepted by the
# event the ORM guard appends for it ("mes.controlled_write", with the reason): it stays in the trail.
# Raw SQL, QuerySet.update() through _base_manager or a psql session as the runtime role have neither
# event, and their transaction is refused.
MASTERDATA_MARK = "MES-CHANGE-CONTROL"

_PG_MASTERDATA_FUNCTION = f"""
CREATE OR REPLACE FUNCTION mes_require_masterdata_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE record_id text := to_jsonb(NEW) ->> TG_ARGV[1];
BEGIN
    IF EXISTS (
        SELECT 1 FROM mes_masterdatachange c
          JOIN audit_auditevent e ON e.object_type = 'mes.masterdatachange' AND e.object_id = c.id::text
         WHERE c.object_type = TG_ARGV[0] AND c.object_id = record_id AND c.status = 'effective'
           AND e.txid = pg_current_xact_id()::text::bigint
           AND e.new_values <> '' AND (e.new_values::jsonb ->> 'status') = 'effective'
    ) OR EXISTS (  -- a seed, fixture or import inside controlled_writes(why): said in the trail
        SELECT 1 FROM audit_auditevent e
         WHERE e.object_type = TG_ARGV[0] AND e.object_id = record_id AND e.action = '{CONTROLLED_WRITE}'
           AND e.txid = pg_current_xact_id()::text::bigint
    ) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '{MASTERDATA_MARK}: % of % #% changes master data under change control without an approved change request',
        TG_OP, TG_TABLE_NAME, record_id USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def masterdata_trigger_name(table: str) -> str:
    return f"{table}_change_control"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _masterdata_trigger_statements(entry: Controlled) -> list[str]:
    model = entry.model
    table, name = model._meta.db_table, masterdata_trigger_name(model._meta.db_table)
    columns = [_field(model, n).column for n in entry.fields]
    changed = " OR ".join(f"OLD.{_quoted(c)} IS DISTINCT FROM NEW.{_quoted(c)}" for c in columns)
    return [
        f"DROP TRIGGER IF EXISTS {_quoted(name)} ON {_quoted(table)}",
        f"CREATE CONSTRAINT TRIGGER {_quoted(name)} AFTER UPDATE ON {_quoted(table)} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({changed}) "
        f"EXECUTE FUNCTION mes_require_masterdata_change('{model._meta.label_lower}', '{model._meta.pk.column}')",
    ]


def masterdata_guard_tables(connection) -> list[str]:
    """The tables of the registered controlled models that exist in this database."""
    existing = set(connection.introspection.table_names())
    return sorted(e.model._meta.db_table for e in registry().values() if e.model._meta.db_table in existing)


def install_masterdata_guard(connection) -> list[str]:
    """Install (idempotent) the change-control trigger on every controlled table. PostgreSQL only:
    run as the owner after migrate. Returns the tables guarded."""
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    guarded = []
    with connection.cursor() as cursor:
        cursor.execute(_PG_MASTERDATA_FUNCTION)
        for entry in registry().values():
            if entry.model._meta.db_table not in existing:
                continue
            for statement in _masterdata_trigger_statements(entry):
                cursor.execute(statement)
            guarded.append(entry.model._meta.db_table)
    return sorted(guarded)


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
    obj.full_clean(validate_unique=True)  # the model's rules (clean()) now; the approval checks them again
    before = {} if new else stored_values(obj, entry.fields)
    after = {n: field_text(obj, n) for n in entry.fields}
    if not new:
        after = {n: v for n, v in after.items() if v != before[n]}
        before = {n: before[n] for n in after}
    if not after:
        raise ValidationError(_("Nothing to change: the proposed values are the values in force."))
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
    ref = f"MDC-{change.pk:05d}"
    token = _APPROVED.set(True)
    try:
        with controlled_writes(ref), audit_context(actor=user, action=f"{change.object_type}.{verb}", reason=ref):
            obj.save()
    finally:
        _APPROVED.reset(token)
    if not change.object_id:
        change.object_id, change.object_repr = str(obj.pk), str(obj)[:200]
        with audit_context(actor=user, action="mes.masterdatachange.created", reason=f"MDC-{change.pk:05d}"):
            change.save(update_fields=["object_id", "object_repr"])


def pending_masterdata_changes():
    return MasterDataChange.objects.filter(status=St.PROPOSED).select_related("proposed_by")
