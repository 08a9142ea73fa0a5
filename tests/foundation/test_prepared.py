"""mes.prepared: a query compiled once gives the rows the ORM gives, for each call's values; a query
whose SQL is not reusable as compiled runs through the ORM every time and is not kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from mes.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


def _events(start, end):
    # the annotation is named before the grouping column: the SQL selects them in the other order
    return (
        AuditEvent.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .values("action")
        .annotate(n=Count("id"), last=Max("timestamp"))
        .order_by("action")
        .values_list("n", "action", "last")
    )


def test_prepared_rows_are_the_orm_rows_for_each_calls_values(users):
    for action in ("test.a", "test.b", "test.b"):
        audit_record(action=action, actor=users["qa"], new={"x": 1})
    prepared = PreparedQuery(AuditEvent, _events)
    now = timezone.now()
    periods = [(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)), (now + dt.timedelta(hours=1), now)]
    for start, end in periods:
        assert prepared.rows("all", start, end) == list(_events(start, end))
    if connection.vendor == "postgresql":  # SQLite binds datetimes as text: the ORM answers there, uncompiled
        assert len(prepared._compiled) == 1  # compiled once, run twice
    assert [r[:2] for r in prepared.rows("all", *periods[0]) if r[1].startswith("test.")] == [
        (1, "test.a"),
        (2, "test.b"),
    ]


def _by_day(start, end):
    # __date turns the value into a date: the sentinel is not among the parameters as given
    return AuditEvent.objects.filter(timestamp__date__gte=start, timestamp__lt=end).values_list("action")


def test_a_query_whose_values_the_orm_transforms_is_not_kept(users):
    audit_record(action="test.c", actor=users["qa"], new={"x": 1})
    prepared = PreparedQuery(AuditEvent, _by_day)
    start, end = timezone.now() - dt.timedelta(days=1), timezone.now() + dt.timedelta(days=1)
    assert prepared.rows("all", start, end) == list(_by_day(start, end))
    assert ("test.c",) in prepared.rows("all", start, end)
    assert prepared._compiled == {}


def _usernames(*ids):
    return get_user_model().objects.filter(pk__in=ids).order_by("pk").values_list("pk", "username")


def test_ids_are_parameters_too_keyed_by_their_number(users):
    prepared = PreparedQuery(get_user_model(), _usernames)
    qa, operator = users["qa"].pk, users["operator"].pk
    assert (
        prepared.rows(2, qa, operator) == list(_usernames(qa, operator)) == sorted([(qa, "qa"), (operator, "operator")])
    )
    assert prepared.rows(1, operator) == [(operator, "operator")]
    assert prepared.rows(1, qa) == [(qa, "qa")]
    assert prepared.rows(0) == []  # no ids: the ORM answers without asking (nothing compiled)
    assert {key for key, _alias in prepared._compiled} == {1, 2}
