"""An audited save in four round trips (issue 2): the row update locks the chain head, the history
version goes into the audit event's statement; everything the audit trail guarantees still holds."""

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from audit.context import audit_context
from audit.models import AuditEvent
from audit.services import audit_record
from audit.verification import verify_chain, write_checkpoint
from tests.sample.models import Sample

pytestmark = [pytest.mark.django_db, pytest.mark.req("AUD-1", "AUD-2")]


@pytest.fixture
def sample(users):
    with audit_context(actor=users["qa"], action="sample.create"):
        return Sample.objects.create(title="S-1", quantity=1)


def _events(sample):
    return list(AuditEvent.objects.filter(object_type="sample.sample", object_id=str(sample.pk)).order_by("seq"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the folded statements are PostgreSQL CTEs")
def test_an_audited_update_is_two_statements_with_history_and_event(sample, users):
    sample.title = "S-2"
    with CaptureQueriesContext(connection) as queries, audit_context(actor=users["qa"], reason="typo in title"):
        sample.save()  # inside the test's transaction: what is captured is what the save sends
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 2, sql
    assert "UPDATE" in sql[0] and "FOR UPDATE" in sql[0]  # the row, then the chain head, one statement
    assert "historicalsample" in sql[1] and "audit_auditevent" in sql[1]
    version = sample.history.first()
    assert (version.title, version.history_type, version.history_user, version.history_change_reason) == (
        "S-2", "~", users["qa"], "typo in title"
    )  # fmt: skip
    event = _events(sample)[-1]
    assert (event.old, event.new, event.reason, event.username) == (
        {"title": "S-1"}, {"title": "S-2"}, "typo in title", users["qa"].username
    )  # fmt: skip
    assert _verified()


def test_an_update_writes_only_the_columns_whose_value_changed(sample, users):
    """The row update names the changed columns only; the row, its history version and its audit event
    all hold the new value, and the columns left out keep theirs."""
    sample.title, sample.author = "S-2", users["qa"]
    with CaptureQueriesContext(connection) as queries, audit_context(actor=users["qa"]):
        sample.save()
    update = next(q["sql"] for q in queries.captured_queries if f'UPDATE "{Sample._meta.db_table}"' in q["sql"])
    assert '"title"' in update and '"author_id"' in update
    assert '"quantity"' not in update and '"status"' not in update
    stored = Sample.objects.get(pk=sample.pk)
    assert (stored.title, stored.author, stored.quantity, stored.status) == ("S-2", users["qa"], 1, "draft")
    version = sample.history.first()
    assert (version.title, version.author_id, version.quantity) == ("S-2", users["qa"].pk, 1)
    assert _events(sample)[-1].new == {"author": users["qa"].pk, "title": "S-2"}
    assert _verified()


def test_a_save_naming_its_columns_writes_those_only(sample, users):
    """A caller's own update_fields is kept (the changed columns are not added to it), and the audit
    event says what was written: a field changed in memory but not saved is no change of the record."""
    sample.title, sample.quantity = "S-2", 7
    with audit_context(actor=users["qa"]):
        sample.save(update_fields=["quantity"])
    stored = Sample.objects.get(pk=sample.pk)
    assert (stored.title, stored.quantity) == ("S-1", 7)
    event = _events(sample)[-1]
    assert (set(event.old), set(event.new)) == ({"quantity"}, {"quantity"})
    assert (float(event.old["quantity"]), float(event.new["quantity"])) == (1, 7)
    assert _verified()


def test_creation_keeps_its_history_version_and_event(sample, users):
    first = sample.history.get()
    assert (first.history_type, first.title, first.history_user) == ("+", "S-1", users["qa"])
    assert [e.action for e in _events(sample)] == ["sample.create"]
    assert _verified()


def test_a_save_that_changes_nothing_still_leaves_a_version_and_no_event(sample):
    before = len(_events(sample))
    sample.save()
    assert sample.history.count() == 2
    assert len(_events(sample)) == before


def test_save_without_historical_record_writes_the_event_only(sample, users):
    sample.title = "S-3"
    with audit_context(actor=users["qa"]):
        sample.save_without_historical_record()
    assert sample.history.count() == 1
    assert _events(sample)[-1].new == {"title": "S-3"}
    assert _verified()


def test_an_event_appended_during_the_save_is_linked_before_the_saves_own(sample, users):
    """A post_save receiver appends an event after the row update locked the head: the head read
    with the row is stale, so the save's own event must read it again and link after it."""

    def side_event(sender, instance, created, **kwargs):
        audit_record(action="test.side", obj=instance, new={"side": True})

    post_save.connect(side_event, sender=Sample, dispatch_uid="test-side-event")
    try:
        sample.title = "S-4"
        with transaction.atomic(), audit_context(actor=users["qa"]):
            sample.save()
    finally:
        post_save.disconnect(dispatch_uid="test-side-event", sender=Sample)
    side, own = _events(sample)[-2:]
    assert (side.action, own.action) == ("test.side", "sample.sample.update")
    assert own.seq == side.seq + 1 and own.prev_hash == side.hash
    assert sample.history.first().title == "S-4"
    result = _verified(result=True)
    assert result.ok, result.problems


def test_a_failed_save_leaves_neither_row_nor_version_nor_event(sample, users):
    sample.title = None  # the column is NOT NULL: the row update fails (PostgreSQL and SQLite alike)
    before = (len(_events(sample)), sample.history.count())
    with pytest.raises(Exception), transaction.atomic(), audit_context(actor=users["qa"]):  # noqa: B017, PT011
        sample.save()
    assert (len(_events(sample)), sample.history.count()) == before
    sample.refresh_from_db()
    assert sample.title == "S-1"
    assert _verified()


@pytest.mark.parametrize(
    "model_path", ["materials.HistoricalMaterial", "batches.HistoricalBatch", "sample.HistoricalSample"]
)
def test_the_compiled_version_insert_prepares_values_as_django_does(model_path, users):
    """The version INSERT is compiled once per model; every later row's parameters must be exactly
    what Django's insert compiler would send for that row (dates, decimals, foreign keys, nulls)."""
    import datetime as dt
    from decimal import Decimal

    from django.apps import apps
    from django.utils import timezone

    from audit import history

    model = apps.get_model(model_path)
    values = {"history_date": timezone.now(), "history_type": "~", "history_user": users["qa"], "id": 7}
    for field in model._meta.concrete_fields:
        if field.attname in values or field.primary_key or field.is_relation:
            continue
        internal = field.get_internal_type()
        if internal in ("CharField", "TextField"):
            values[field.attname] = "名称 x"[: field.max_length or 10]
        elif internal == "DecimalField":
            values[field.attname] = Decimal("12.500")
        elif internal == "DateTimeField":
            values[field.attname] = timezone.now() - dt.timedelta(hours=3)
        elif internal == "DateField":
            values[field.attname] = dt.date(2026, 2, 28)
    first, second = model(**values), model(**{**values, "history_type": "+", "history_date": timezone.now()})
    history._INSERTS.pop(model, None)
    history._insert_sql(first)  # compiles and caches
    assert model in history._INSERTS
    sql, params = history._insert_sql(second)  # from the cache
    expected_sql, expected_params, _fields = history._compiled_insert(second)
    assert (sql, params) == (expected_sql, expected_params)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prepared", [True, False])
def test_the_audit_statements_are_prepared_on_the_server_unless_turned_off(sample, users, settings, prepared):
    settings.MES_PREPARED_STATEMENTS = prepared
    connection.close()  # a new session: nothing prepared yet
    for title in ("S-2", "S-3"):
        sample.title = title
        with audit_context(actor=users["qa"], reason="retitled"):
            sample.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    audited = [s for s in statements if "audit_chainhead" in s or "audit_auditevent" in s]
    if prepared:
        assert any('UPDATE "sample_sample"' in s for s in audited), statements
        assert any("historicalsample" in s and "audit_auditevent" in s for s in audited), statements
    else:
        assert audited == []
    assert [v.title for v in sample.history.order_by("history_id")][-2:] == ["S-2", "S-3"]
    events = _events(sample)
    assert events[-1].reason == "retitled" and '"S-3"' in events[-1].new_values
    assert _verified()


def _verified(result=False):
    """Verify the trail as an auditor does, after the witness has seen it."""
    write_checkpoint()
    outcome = verify_chain()
    return outcome if result else outcome.ok
