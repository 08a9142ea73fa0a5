"""The step an action loads (and locks) through mes.prepared's compiled SQL is the ORM's step: the same
field values, its batch, recipe and equipment loaded alike; the lock refused outside a transaction."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from audit.signatures import signature_is_valid, signatures_for
from batches import selectors
from batches.models import BatchRecord, Entry, StepExecution
from batches.services import execution, gates, review
from mes.changecontrol import controlled_writes
from mes.templatetags import mes_tags
from tests.batches.conftest import PW


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


def test_the_locked_entry_is_the_orms_entry_with_its_batch_recipe_step_and_equipment(running, users, monkeypatch):
    """Recording a value loads its entry locked through SQL compiled once: the ORM's entry, its batch and
    recipe, its step and the step's equipment, for each entry asked (not the first one's); the step's
    batch is the entry's batch row; an unknown id is refused as the ORM refuses it, and so is the lock
    outside a transaction."""
    steps = list(StepExecution.objects.filter(batch=running["batch"]).order_by("number")[:2])
    _perform(steps[0], users["operator"])  # recorded values, a step with its equipment
    entries = [e for st in steps for e in st.entries.all()]
    assert len(entries) >= 2 and steps[0].entries.filter(entered_at__isnull=False).exists()
    locked = []
    for entry in entries:
        orm = Entry.objects.select_related("batch__recipe", "step__equipment").get(pk=entry.pk)
        with transaction.atomic():
            got = execution._lock_entry(entry.pk)
        locked.append(got)
        assert _fields(got) == _fields(orm) and _fields(got.step) == _fields(orm.step)
        assert _fields(got.batch) == _fields(orm.batch) and got.step.batch is got.batch
        assert (got.batch.recipe and _fields(got.batch.recipe)) == (orm.batch.recipe and _fields(orm.batch.recipe))
        assert (got.step.equipment and _fields(got.step.equipment)) == (
            orm.step.equipment and _fields(orm.step.equipment)
        )
    assert any(got.step.equipment for got in locked)  # the equipment join was exercised
    assert len(execution._ENTRY_LOCKED._compiled) == 1
    with transaction.atomic(), pytest.raises(Entry.DoesNotExist):
        execution._lock_entry(-1)
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)
    with pytest.raises(TransactionManagementError):
        execution._lock_entry(entries[0].pk)


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


def _screen_orm(number: str, step: int) -> StepExecution:
    return StepExecution.objects.select_related("batch__product", "equipment", "performed_by").get(
        batch__number=number, number=step
    )


def test_the_step_screens_step_is_the_orms_step_by_batch_number_and_step_number(running, users):
    """The step screen reads its step by the batch number (a string) and the step number through SQL
    compiled once: each call binds its own values (not the first call's), and the step's batch, product,
    equipment and performer are the ORM's."""
    batch = running["batch"]
    steps = list(StepExecution.objects.filter(batch=batch).order_by("number"))
    first = steps[0]
    _perform(first, users["operator"])  # a performer to load
    for step in steps[:4]:
        orm, got = _screen_orm(batch.number, step.number), selectors.screen_step(batch.number, step.number)
        assert _fields(got) == _fields(orm)
        assert _fields(got.batch) == _fields(orm.batch) and _fields(got.batch.product) == _fields(orm.batch.product)
        assert (got.equipment and _fields(got.equipment)) == (orm.equipment and _fields(orm.equipment))
        assert (got.performed_by and _fields(got.performed_by)) == (orm.performed_by and _fields(orm.performed_by))
    assert selectors.screen_step(batch.number, first.number).performed_by == users["operator"]
    assert len(selectors._SCREEN_STEP._compiled) == 1  # one compiled statement served every call
    assert selectors.screen_step(batch.number, 99999) is None
    assert selectors.screen_step(batch.number + "X", first.number) is None
    assert selectors.screen_step("' OR '1'='1", first.number) is None  # a value, never SQL text


def _perform(step, operator) -> None:
    scan = {"GRAN": "GRAN-01", "FBD": "FBD-01"}.get(step.equipment_class or "") or execution.step_code(step)
    execution.step_start(user=operator, step=step, scan=scan)
    for entry in step.entries.all():
        value = entry.expected_answer or str(entry.target or entry.minimum or 1)
        execution.entry_record(user=operator, entry=entry, value=value, version=entry.version, comment="noted")
    reason = "Test: materials are not what this test is about"
    execution.step_sign(user=operator, step=step, password=PW, material_exception_reason=reason)


def test_the_signatures_a_page_shows_are_the_records_signatures_through_compiled_sql(running, users):
    """The signatures block of the step screen (and of the batch and its review) reads a record's
    signatures through SQL compiled once: the same rows, in the same order, as the ORM's query, for each
    record asked (not the first one's), and none for a record without any."""
    steps = list(StepExecution.objects.filter(batch=running["batch"]).order_by("number")[:2])
    _perform(steps[0], users["operator"])
    for record in (steps[0], steps[1], running["batch"]):
        shown = mes_tags.signatures_of(record)["signatures"]
        assert [_fields(s["signature"]) for s in shown] == [_fields(s) for s in signatures_for(record)]
        assert [s["valid"] for s in shown] == [signature_is_valid(s, record) for s in signatures_for(record)]
    assert len(mes_tags.signatures_of(steps[0])["signatures"]) >= 1
    assert mes_tags.signatures_of(steps[1])["signatures"] == []
    assert len(mes_tags._SIGNATURES._compiled) == 1


def test_the_verifier_named_on_a_verification_is_found_as_the_orm_finds_them(running, users):
    """The second person's user ID is looked up through SQL compiled once: the active account with that
    user ID (surrounding blanks ignored), None for an unknown, empty or deactivated one."""
    User = get_user_model()
    orm = User.objects.filter(username="operator2", is_active=True).first()
    assert execution._active_user("operator2") == orm and execution._active_user(" operator2 ") == orm
    assert execution._active_user("operator") == users["operator"]  # each call its own value
    assert execution._active_user("nobody-here") is None and execution._active_user("") is None
    with controlled_writes("test: a deactivated account cannot verify"):
        User.objects.filter(pk=orm.pk).update(is_active=False)
    assert execution._active_user("operator2") is None
    assert len(execution._ACTIVE_USER._compiled) == 1


def test_the_batch_snapshot_read_for_a_steps_materials_is_the_orms(running):
    """Signing a step (and the step screen of a running step) reads the batch record's snapshot through
    SQL compiled once: the ORM's value for a batch with a record, None for one without."""
    batch = running["batch"]
    orm = BatchRecord.objects.filter(batch_id=batch.pk).values_list("snapshot", flat=True).first()
    assert orm is not None and gates.batch_snapshot(batch.pk) == orm
    assert gates.batch_snapshot(-5) is None
    assert len(gates._SNAPSHOT._compiled) == 1


def test_the_step_screens_values_are_the_orms_with_who_entered_them(running, users):
    """The step screen reads a step's values (and who entered each) through SQL compiled once: the
    ORM's rows in the ORM's order, each knowing its step, for each step asked (not the first one's)."""
    steps = list(StepExecution.objects.filter(batch=running["batch"]).order_by("number"))
    _perform(steps[0], users["operator"])  # values entered by someone, to load with them
    for step in steps:
        orm = list(step.entries.select_related("entered_by"))
        got = selectors.screen_entries(step)
        assert [_fields(e) for e in got] == [_fields(e) for e in orm]
        assert [e.entered_by and _fields(e.entered_by) for e in got] == [
            e.entered_by and _fields(e.entered_by) for e in orm
        ]
        assert all(e.step is step for e in got)
    assert {e.entered_by for e in selectors.screen_entries(steps[0])} == {users["operator"]}
    assert len(selectors._SCREEN_ENTRIES._compiled) == 1


def test_the_step_screen_shows_each_values_corrections_in_order_read_in_one_query(running, client, users):
    """Under each recorded value the step screen shows its corrections (old value struck through, who,
    why) in the order they were made: the ORM's corrections of that entry, read for the whole step in one
    query through SQL compiled once, and not read at all on a step with nothing recorded."""
    steps = list(StepExecution.objects.filter(batch=running["batch"]).order_by("number")[:2])
    _perform(steps[0], users["operator"])
    recorded = list(steps[0].entries.all())
    first = next(e for e in recorded if not e.answer_choices)
    second = next(e for e in recorded if e.pk != first.pk)
    original = first.value
    for value, reason in (("152", "Transcription error"), ("153", "Second look at the display")):
        first.refresh_from_db()
        review.entry_correct(user=users["operator"], entry=first, value=value, reason=reason, version=first.version)
    second.refresh_from_db()
    review.entry_correct(
        user=users["operator"], entry=second, value=second.value, reason="Unit checked", version=second.version
    )
    entries = selectors.screen_entries(steps[0])
    selectors.screen_corrections(steps[0], entries)
    for entry in entries:
        orm = list(entry.corrections.select_related("corrected_by"))
        assert [_fields(c) for c in entry.shown_corrections] == [_fields(c) for c in orm]
        assert all(c.corrected_by == users["operator"] for c in entry.shown_corrections)
    shown = {e.pk: len(e.shown_corrections) for e in entries}
    assert (shown[first.pk], shown[second.pk]) == (2, 1)

    client.force_login(users["operator"])
    number = running["batch"].number
    with CaptureQueriesContext(connection) as done:
        page = client.get(f"/batches/{number}/step/{steps[0].number}/").content.decode()
    struck = [page.index(f"<s>{old}</s> → {new}") for old, new in ((original, "152"), ("152", "153"))]
    assert struck == sorted(struck) and "Transcription error" in page and "Unit checked" in page
    with CaptureQueriesContext(connection) as pending:
        client.get(f"/batches/{number}/step/{steps[1].number}/")
    assert [_reads_corrections(q) for q in done.captured_queries].count(True) == 1
    assert not any(_reads_corrections(q) for q in pending.captured_queries)


def _reads_corrections(query: dict) -> bool:
    return query["sql"].lstrip().upper().startswith("SELECT") and "batches_entrycorrection" in query["sql"]


def _prepared_on_the_server() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prepared", [True, False])
def test_the_step_screens_lookups_are_planned_once_per_connection_unless_turned_off(
    running, client_for, settings, prepared
):
    """The statements every operator request runs with the same text (the session, the permission map,
    the step screen's step and entries, the entry a value locks) are prepared on the PostgreSQL server on
    first use, so the server plans them once per connection, not on every request; a report's period is
    still planned for its values; MES_PREPARED_STATEMENTS=0 (behind a pooler) prepares nothing. The
    screen and the recorded value are the same either way."""
    settings.MES_PREPARED_STATEMENTS = prepared
    client = client_for("operator")
    connection.close()  # a new database session: nothing prepared yet
    url = f"/batches/{running['batch'].number}/step/10/"
    assert client.post(url, {"op": "start", "how": "scanned", "scan": "GRAN-01"}).status_code == 302  # its equipment
    assert StepExecution.objects.get(batch=running["batch"], number=10).status == "active"
    entry = Entry.objects.filter(step__batch=running["batch"], step__number=10).order_by("position").first()
    value = entry.expected_answer or str(entry.target)
    answer = client.post(url, {"op": "record", "entry": entry.pk, "version": entry.version, "value": value},
                         HTTP_HX_REQUEST="true")  # fmt: skip
    assert answer.status_code == 200 and f'id="entry-{entry.pk}"' in answer.content.decode()
    assert client.get(url).status_code == 200
    assert client_for("qa").get("/reports/").status_code == 200
    statements = _prepared_on_the_server()
    entry.refresh_from_db()
    assert entry.entered_by.username == "operator" and entry.value == value
    if not prepared:
        assert statements == []
        return
    for table in ('"django_session"', "guardian_userobjectpermission", '"batches_entrycorrection"'):
        assert any(table in s for s in statements), (table, statements)
    locked_entry = [s for s in statements if s.startswith('SELECT "batches_entry"') and "FOR UPDATE" in s]
    assert locked_entry, statements  # the entry the value locks, with its batch, step and equipment
    screen_step = [s for s in statements if s.startswith('SELECT "batches_stepexecution"') and "INNER JOIN" in s]
    assert screen_step, statements
    assert not any("GROUP BY" in s for s in statements), statements  # the dashboard's aggregates: planned per period
