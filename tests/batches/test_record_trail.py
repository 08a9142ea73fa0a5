"""The batch record's own trail: every status change of the batch (BAT-3) and every correction of
a recorded value (BAT-5, BAT-13) is an audit event with old value, new value, who, when and why."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from batches import services as s
from batches.models import EntryCorrection
from tests.batches.conftest import fresh


def _events(obj_type: str, pk: int, action_suffix: str = "") -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(object_type=obj_type, object_id=str(pk)).order_by("seq")
    return [e for e in qs if e.action.endswith(action_suffix)] if action_suffix else list(qs)


def _values(text: str) -> dict:
    return json.loads(text) if text else {}


@pytest.mark.req("BAT-3")
def test_every_batch_status_change_is_an_audit_event_with_old_and_new_status(running, users):
    batch = running["batch"]
    changes = [
        (_values(e.old_values).get("status"), _values(e.new_values).get("status"), e.username, e.action)
        for e in _events("batches.batch", batch.pk)
        if "status" in _values(e.new_values)
    ]
    assert [(old, new) for old, new, _who, _action in changes] == [
        (None, "planned"),  # created from the order
        ("planned", "ready"),
        ("ready", "in_progress"),
    ]
    assert [who for _o, _n, who, _a in changes] == ["supervisor", "supervisor", "supervisor"]
    assert [a for *_rest, a in changes][1:] == ["batches.batch.mark_ready", "batches.batch.start"]


@pytest.mark.req("BAT-5", "BAT-13")
def test_a_correction_keeps_old_value_new_value_who_when_and_why(running, users):
    batch = running["batch"]
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    entry = s.entry_record(user=op, entry=step.entries.get(name="Impeller speed"), value="150", version=0)
    entry = s.entry_correct(user=op, entry=entry, value="152", reason="Transcription error", version=entry.version)
    correction = EntryCorrection.objects.get(entry=entry)
    assert (correction.old_value, correction.new_value, correction.reason) == ("150", "152", "Transcription error")
    assert correction.corrected_by == op and correction.corrected_at is not None
    (event,) = _events("batches.entry", entry.pk, "entry.correct")
    assert _values(event.old_values)["value"] == "150" and _values(event.new_values)["value"] == "152"
    assert event.username == "operator" and event.reason == "Transcription error" and event.timestamp
