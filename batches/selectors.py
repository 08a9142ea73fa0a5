"""Read queries of the operator's step actions.

Every scan, recorded value and signature first finds the step (or the entry) its URL names. Plain SQL:
on each operator action the ORM cost more CPU to build these lookups than the database took to answer
them. They read where the ORM would (the router's database for the model).
"""

from __future__ import annotations

from django.db import router

from audit.prepared import prepared_cursor
from batches.models import Batch, Entry, EntryCorrection, StepExecution
from mes.prepared import PreparedInstance

# The step screen's step with its batch (and the batch's product), its equipment and who performed it:
# the ORM's select_related join, compiled once per process (mes.prepared), every call a query.
_SCREEN_STEP = PreparedInstance(
    StepExecution,
    lambda number, step: StepExecution.objects.select_related("batch__product", "equipment", "performed_by").filter(
        batch__number=number, number=step
    ),
)

# The step screen's values with who entered each: `step.entries.select_related("entered_by")`, compiled once.
_SCREEN_ENTRIES = PreparedInstance(
    Entry, lambda step_id: Entry.objects.select_related("entered_by").filter(step_id=step_id)
)

# The corrections of a step's values with who made each, in their order (EntryCorrection's ordering):
# compiled once. The screen prefetched them per entry, a query the ORM built anew on every page.
_SCREEN_CORRECTIONS = PreparedInstance(
    EntryCorrection,
    lambda step_id: EntryCorrection.objects.select_related("corrected_by").filter(entry__step_id=step_id),
)


def _one(model, sql: str, params: list) -> int | None:
    with prepared_cursor(router.db_for_read(model)) as cursor:  # a key lookup: planned once per connection
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def step_id_of(number: str, step: int) -> int | None:
    """The id of step `step` of batch `number`, or None."""
    sql = (
        f"SELECT s.id FROM {StepExecution._meta.db_table} s JOIN {Batch._meta.db_table} b ON b.id = s.batch_id"
        " WHERE b.number = %s AND s.number = %s"
    )
    return _one(StepExecution, sql, [number, step])


def screen_step(number: str, step: int) -> StepExecution | None:
    """Step `step` of batch `number` as the step screen shows it (batch, product, equipment, performer
    loaded with it), or None."""
    try:
        return _SCREEN_STEP.get(number, step)
    except StepExecution.DoesNotExist:
        return None


def screen_entries(step: StepExecution) -> list[Entry]:
    """The step's values in their order as the step screen shows them (who entered each loaded with it),
    each knowing its step."""
    entries = _SCREEN_ENTRIES.all(step.pk)
    for entry in entries:
        entry.step = step
    return entries


def screen_corrections(step: StepExecution, entries: list[Entry]) -> None:
    """Sets `shown_corrections` on each of the step's entries: its corrections, in their order, with who
    made each. One query for the step, and none while nothing is recorded (a value is corrected only
    once it has been recorded)."""
    by_entry: dict[int, list[EntryCorrection]] = {e.pk: [] for e in entries}
    if any(e.recorded for e in entries):
        for correction in _SCREEN_CORRECTIONS.all(step.pk):
            by_entry.setdefault(correction.entry_id, []).append(correction)
    for entry in entries:
        entry.shown_corrections = by_entry[entry.pk]


def entry_id_of(number: str, step: int, entry: int) -> int | None:
    """The id of entry `entry` if it belongs to step `step` of batch `number`, else None."""
    sql = (
        f"SELECT e.id FROM {Entry._meta.db_table} e JOIN {StepExecution._meta.db_table} s ON s.id = e.step_id"
        f" JOIN {Batch._meta.db_table} b ON b.id = s.batch_id WHERE e.id = %s AND b.number = %s AND s.number = %s"
    )
    return _one(Entry, sql, [entry, number, step])


def step_outline_rows(batch_id: int) -> list[tuple[int, int, str, bool]]:
    """(id, number, status, allow_parallel) of the batch's steps in step order: the step screen and the
    start check read it on every request."""
    sql = (
        f"SELECT id, number, status, allow_parallel FROM {StepExecution._meta.db_table}"
        " WHERE batch_id = %s ORDER BY number, id"
    )
    with prepared_cursor(router.db_for_read(StepExecution)) as cursor:
        cursor.execute(sql, [batch_id])
        return [(pk, number, status, bool(parallel)) for pk, number, status, parallel in cursor.fetchall()]
