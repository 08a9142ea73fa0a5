"""The simple-history version of a GMP record, written in the same round trip as its audit event.

django-simple-history writes a version of the row on every save (post_save -> a model save of the
historical instance: one more INSERT, one more round trip). For GMP records that round trip is
folded into the audit trail's critical statement: `GMPHistoricalRecords` lets simple-history
decide everything it decides (history type, user, change reason, tracked fields, its signals) and
only defers the INSERT (queued on the save's `SaveRound`, audit.saveround); `GMPModel.save` then
hands the compiled statement to `audit_record`, which
runs it inside the data-modifying CTE that inserts the event and moves the chain head (issue 2:
an audited save costs at most 2x an unaudited one). The table, the historical model and
`Model.history` are simple-history's own, unchanged.

Every case this fast path does not cover (m2m history, a history relation, another database,
receivers of the historical model's own save signals, a save outside `GMPModel.save`) falls back
to simple-history's own save of the version. History disabled or skipped (`SIMPLE_HISTORY_ENABLED`,
`save_without_historical_record`) is decided by simple-history before it gets here.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

_HISTORY_MODELS: dict[type, type] = {}


@dataclass
class PendingVersion:
    """A history row built by simple-history's rules, not yet inserted."""

    instance: Any  # the historical model instance
    sql: str  # INSERT ... RETURNING <history pk>, with %s placeholders
    params: list
    signal_kwargs: dict

    def written(self, history_id) -> None:
        """Mark the row as stored (by the audit CTE or by `write`) and send simple-history's signal."""
        self.instance.pk = history_id
        self.instance._state.adding = False
        post_create_historical_record.send(**self.signal_kwargs, history_instance=self.instance)

    def write(self) -> None:
        """Insert the row on its own (a save that changed nothing still leaves a version)."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            self.written(cursor.fetchone()[0])


def history_model_of(model: type) -> type:
    """The historical model of a GMP model class, without building a manager (the `history`
    descriptor creates a new manager class on every access)."""
    found = _HISTORY_MODELS.get(model)
    if found is None:
        name = model._meta.simple_history_manager_attribute
        found = _HISTORY_MODELS[model] = inspect.getattr_static(model, name).model
    return found


_INSERTS: dict[type, tuple[str, list]] = {}  # historical model -> (INSERT SQL, its fields)


def _compiled_insert(history_instance) -> tuple[str, list, list]:
    """The INSERT Django would run for `history_instance.save()`, returning its primary key."""
    model = type(history_instance)
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    query = InsertQuery(model)
    query.insert_values(fields, [history_instance])
    compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
    compiler.returning_fields = [meta.pk]
    ((sql, params),) = compiler.as_sql()
    return sql, list(params), fields


def _insert_sql(history_instance) -> tuple[str, list]:
    """`_compiled_insert`'s statement and parameters. The statement of a model's one-row insert never
    changes, so it is compiled once; the parameters are prepared per row as Django's insert compiler
    prepares them (each field's pre_save, then get_db_prep_save)."""
    model = type(history_instance)
    cached = _INSERTS.get(model)
    if cached is None:
        sql, params, fields = _compiled_insert(history_instance)
        _INSERTS[model] = (sql, fields)
        return sql, params
    sql, fields = cached
    return sql, [f.get_db_prep_save(f.pre_save(history_instance, True), connection=connection) for f in fields]


class GMPHistoricalRecords(HistoricalRecords):
    """simple-history for GMP models: while `GMPModel.save` runs, the version is built here and
    queued on the save's `SaveRound` instead of being inserted by a separate save."""

    def create_historical_record(self, instance, history_type, using=None):
        rnd = instance.__dict__.get("_audit_round")  # audit.saveround.SaveRound while GMPModel.save runs
        using = using if self.use_base_model_db else None
        model = history_model_of(type(instance))
        if (
            rnd is None
            or (using or DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS
            or connection.vendor != "postgresql"
            or model._history_m2m_fields
            or getattr(model, "history_relation", None) is not None
            or pre_save.has_listeners(model)
            or post_save.has_listeners(model)  # a model save of the version would call them
        ):
            return super().create_historical_record(instance, history_type, using=using)
        history_date = getattr(instance, "_history_date", timezone.now())
        history_user = self.get_history_user(instance)
        reason = self.get_change_reason_for_object(instance, history_type, using)
        attrs = {field.attname: getattr(instance, field.attname) for field in self.fields_included(instance)}
        history_instance = model(
            history_date=history_date,
            history_type=history_type,
            history_user=history_user,
            history_change_reason=reason,
            **attrs,
        )
        signal_kwargs = dict(
            sender=model,
            instance=instance,
            history_date=history_date,
            history_user=history_user,
            history_change_reason=reason,
            using=using,
        )
        pre_create_historical_record.send(**signal_kwargs, history_instance=history_instance)
        sql, params = _insert_sql(history_instance)
        rnd.versions.append(PendingVersion(history_instance, sql, params, signal_kwargs))
