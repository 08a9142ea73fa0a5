"""The base class of every GMP record.

A GMPModel cannot be changed without leaving a trace:
- every save writes one audit event with the old and new values of the fields that changed
  (in the same transaction), and django-simple-history keeps a full version of the row;
- the queryset refuses the write paths that bypass save(): update(), bulk_create(),
  bulk_update() and delete();
- records are never deleted;
- the state field (STATE_FIELD) changes only through the transition mechanism (mes.workflow).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.utils.translation import gettext as _

from audit.canonical import canonical_json, jsonable, sha256_hex
from audit.context import current_actor, current_audit_context, is_status_change_allowed
from audit.history import GMPHistoricalRecords
from audit.saveround import SaveRound
from audit.services import audit_record, object_label


class AuditBypassError(RuntimeError):
    """A write path that would escape the audit trail was used on a GMP record."""


def _audit_delete_refused(model, object_id: str, entry_point: str) -> None:
    """A refused deletion is itself an audit event (retention: BAT-4, QC-5, AUD-4)."""
    with transaction.atomic():
        audit_record(
            action="retention.delete_refused",
            object_type=f"{model._meta.app_label}.{model._meta.model_name}",
            object_id=object_id,
            new={"entry_point": entry_point},
            reason="GMP records are kept for their retention period",
        )


class GMPQuerySet(models.QuerySet):
    """Refuses bulk and raw write paths: a GMP record changes one audited save() at a time."""

    def _refuse(self, what: str):
        raise AuditBypassError(
            f"{what}() on {self.model._meta.label} would bypass the audit trail; change records through their service."
        )

    def update(self, **kwargs):
        self._refuse("update")

    def bulk_create(self, *args, **kwargs):
        self._refuse("bulk_create")

    def bulk_update(self, *args, **kwargs):
        self._refuse("bulk_update")

    def update_or_create(self, *args, **kwargs):
        self._refuse("update_or_create")

    def delete(self):
        _audit_delete_refused(self.model, "", "orm-queryset")
        self._refuse("delete")

    delete.alters_data = True
    delete.queryset_only = True


GMPManager = models.Manager.from_queryset(GMPQuerySet)


class GMPModel(models.Model):
    """Abstract base: audited saves, full history, no deletion, guarded state field."""

    STATE_FIELD: ClassVar[str | None] = None
    # Fields left out of audit diffs (derived caches) and out of signed content (workflow state).
    AUDIT_EXCLUDE: ClassVar[tuple[str, ...]] = ()
    SIGNATURE_EXCLUDE: ClassVar[tuple[str, ...]] = ()
    # Fields left out of signed content after signatures had bound them: such a signature stays valid
    # while they are as they were when it was made (signed_content_hashes adds their current values back).
    SIGNED_BEFORE: ClassVar[tuple[str, ...]] = ()

    history = GMPHistoricalRecords(inherit=True)
    objects = GMPManager()

    class Meta:
        abstract = True

    # --- values -----------------------------------------------------------------------------
    @classmethod
    def _audited_fields(cls) -> tuple[tuple[str, str], ...]:
        """(name, attname) of the audited concrete fields, worked out once per model class."""
        fields = cls.__dict__.get("_audited_fields_cache")
        if fields is None:
            fields = tuple((f.name, f.attname) for f in cls._meta.concrete_fields if f.name not in cls.AUDIT_EXCLUDE)
            cls._audited_fields_cache = fields
        return fields

    def audit_values(self) -> dict[str, Any]:
        """The record's current field values in canonical form, keyed by attribute name."""
        return {name: jsonable(getattr(self, attname)) for name, attname in self._audited_fields()}

    def signature_content(self) -> dict[str, Any]:
        """What a signature on this record binds to. Override to include child records."""
        excluded = set(self.SIGNATURE_EXCLUDE) | ({self.STATE_FIELD} if self.STATE_FIELD else set())
        return {k: v for k, v in self.audit_values().items() if k not in excluded}

    def content_hash(self) -> str:
        return sha256_hex(canonical_json(self.signature_content()))

    def content_hash_for(self, meaning: str) -> str:
        """The hash a signature of this meaning binds: the signed content (a model may bind less for one
        meaning, as a step's performer does not sign its verification)."""
        return self.content_hash()

    def signed_content_hashes(self, meaning: str = "") -> set[str]:
        """The hashes under which a signature of this meaning on this record is still valid: its content as
        it is now, and (SIGNED_BEFORE) that content with the fields it no longer holds, for signatures made
        before."""
        hashes = {self.content_hash_for(meaning)}
        if self.SIGNED_BEFORE:
            hashes.add(sha256_hex(canonical_json(self.content_signed_before())))
        return hashes

    def content_signed_before(self) -> dict[str, Any]:
        """The signed content as signatures made before SIGNED_BEFORE was left out bound it."""
        values = self.audit_values()
        return {**self.signature_content(), **{name: values[name] for name in self.SIGNED_BEFORE}}

    @classmethod
    def from_db(cls, db, field_names, values):
        """Keep the values as loaded; their canonical form (the "old" side of the next audit event) is
        worked out only when the record is saved. Most loaded records are only shown, and converting
        every field of every row was a large share of a page's CPU. Mutable values (JSON lists and
        dicts) are converted now, so a change made in place still shows up as a change."""
        instance = super().from_db(db, field_names, values)
        loaded = dict(zip(field_names, values, strict=False))
        raw = {}
        for name, attname in cls._audited_fields():
            if attname not in loaded:  # a deferred field: read it now, as before
                instance._audit_loaded = instance.audit_values()
                return instance
            value = loaded[attname]
            raw[name] = jsonable(value) if isinstance(value, (dict, list)) else value
        instance._audit_raw = raw
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self.__dict__.pop("_audit_raw", None)
        self._audit_loaded = self.audit_values()

    def _audit_old(self) -> dict[str, Any] | None:
        """The canonical values as last loaded or saved (None for an instance built by hand)."""
        loaded = self.__dict__.get("_audit_loaded")
        if loaded is None and "_audit_raw" in self.__dict__:
            loaded = self._audit_loaded = {k: jsonable(v) for k, v in self.__dict__.pop("_audit_raw").items()}
        return loaded

    # --- writes -----------------------------------------------------------------------------
    def save(self, *args, **kwargs):
        creating = self._state.adding
        old = {} if creating else self._audit_old()
        if old is None:  # an instance built by hand with a pk: read what is stored
            stored = type(self)._base_manager.filter(pk=self.pk).first()
            old = stored.audit_values() if stored else {}
        new = self.audit_values()
        self._guard_state_change(creating, old, new)
        changed = sorted(k for k in new if old.get(k) != new[k]) if not creating else sorted(new)
        if not creating and kwargs.get("update_fields") is not None:
            changed = self._named_columns(changed, kwargs["update_fields"])
        ctx = current_audit_context()
        actor = current_actor()
        self._history_user = actor
        if ctx is not None and ctx.reason:
            self._change_reason = ctx.reason
        if changed and not creating and not args and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = self._written_columns(changed)
        with transaction.atomic(savepoint=False):  # the row, its history and its audit event, or nothing
            rnd = self._save_row(not creating and bool(changed), *args, **kwargs)
            versions = rnd.versions
            after = self.audit_values()
            if creating or changed:
                default_action = f"{object_label(self)}.{'create' if creating else 'update'}"
                audit_record(
                    action=ctx.action if ctx and ctx.action else default_action,
                    actor=actor,
                    obj=self,
                    old=None if creating else {k: old.get(k) for k in changed},
                    new=after if creating else {k: after[k] for k in changed},
                    also=versions.pop() if len(versions) == 1 else None,
                    head=rnd.locked_head(),
                )
            for version in versions:  # nothing changed (no event), or an unexpected second version
                version.write()
        self._audit_loaded = after

    def _named_columns(self, changed: list[str], update_fields) -> list[str]:
        """Of the changed fields, those a save naming its columns writes: the event says what the row
        holds, not what the instance held (a field changed in memory and not written is no change)."""
        named = set(update_fields)
        return [n for n in changed if n in named or self._meta.get_field(n).attname in named]

    def _written_columns(self, changed: list[str]) -> list[str] | None:
        """The columns an update writes: those whose value changed, and those the trail leaves out
        (it cannot tell whether they changed): a signed step changes a handful of its 25 columns,
        and preparing and sending the others was CPU spent on every operator action. None (every
        column) when the key itself changed."""
        if self._meta.pk.name in changed:
            return None
        return [*changed, *(n for n in self.AUDIT_EXCLUDE if n not in changed)]

    def _save_row(self, event_follows: bool, *args, **kwargs) -> SaveRound:
        """Save the row. When an event follows, the row update also locks the chain head; the
        history version is built but left to the event's statement (audit.saveround)."""
        outer = self.__dict__.get("_audit_round")  # a save of this instance inside its own save
        rnd = self._audit_round = SaveRound(lock_head=event_follows and connection.vendor == "postgresql")
        try:
            super().save(*args, **kwargs)
            return rnd
        finally:
            if outer is None:
                del self._audit_round
            else:
                self._audit_round = outer

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        rnd = self.__dict__.get("_audit_round")
        if (
            rnd is None
            or not rnd.lock_head
            or not values
            or (self._meta.select_on_save and not forced_update)
            or (using or DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS
        ):
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        return rnd.update_and_lock(base_qs.filter(pk=pk_val), values)

    def _guard_state_change(self, creating: bool, old: dict, new: dict) -> None:
        field = self.STATE_FIELD
        if not field or creating:
            return
        if old.get(field) != new.get(field) and not is_status_change_allowed(self):
            raise ValidationError(
                _("The status of a record changes only through its workflow actions, never by editing it.")
            )

    def delete(self, *args, **kwargs):
        _audit_delete_refused(type(self), str(self.pk or ""), "orm-instance")
        raise AuditBypassError(f"{self._meta.label} records are never deleted; retire or cancel them instead.")
