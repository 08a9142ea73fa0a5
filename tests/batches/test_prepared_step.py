"""The step an action loads (and locks) through mes.prepared's compiled SQL is the ORM's step: the same
field values, its batch, recipe and equipment loaded alike; the lock refused outside a transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from batches.models import StepExecution
from batches.services import execution


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_prepared_step_is_the_orms_step_with_its_related_records(running):
    for step in StepExecution.objects.filter(batch=running["batch"]).order_by("number")[:3]:
        orm = StepExecution.objects.select_related("batch__recipe", "equipment").get(pk=step.pk)
        for got in (execution._STEP.get(step.pk), _locked(step.pk)):
            assert _fields(got) == _fields(orm)
            assert _fields(got.batch) == _fields(orm.batch)
            assert (got.batch.recipe and _fields(got.batch.recipe)) == (orm.batch.recipe and _fields(orm.batch.recipe))
            assert (got.equipment and _fields(got.equipment)) == (orm.equipment and _fields(orm.equipment))
            assert got._state.db == orm._state.db and not got._state.adding
    with pytest.raises(StepExecution.DoesNotExist):
        execution._STEP.get(-1)


def test_the_prepared_entries_are_the_steps_entries_in_their_order(running):
    for step in StepExecution.objects.filter(batch=running["batch"]).order_by("number"):
        orm = list(step.entries.all())
        got = execution._step_entries(step)
        assert [_fields(e) for e in got] == [_fields(e) for e in orm]
        assert all(e.step is step for e in got)


def _locked(pk: int) -> StepExecution:
    with transaction.atomic():
        return execution._lock_step(pk)


def test_the_prepared_lock_is_refused_outside_a_transaction(running, monkeypatch):
    step = StepExecution.objects.filter(batch=running["batch"]).first()
    _locked(step.pk)  # compiled
    # the test runs inside a transaction: the connection is made to answer as outside one (autocommit)
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)
    with pytest.raises(TransactionManagementError):
        execution._lock_step(step.pk)
    execution._STEP.get(step.pk)  # a plain read needs no transaction
