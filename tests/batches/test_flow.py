"""The core batch flow, each rule broken on purpose."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from batches import services as s
from batches.models import BatchStatus, Entry, StepStatus
from tests.batches.conftest import PW, fresh, issue_all, run_all_steps


@pytest.mark.req("QC-6", "EQP-4")
def test_ready_only_when_every_check_passes(setup, users):
    batch = setup["batch"]
    prep = s.batch_preparation(batch)
    assert [r.number for r in prep.steps] == [10, 20]
    assert all(r.ok for r in prep.steps) and all(m.ok for m in prep.materials)
    assert "Line clearance is not signed." in prep.reasons
    with pytest.raises(ValidationError, match="Line clearance"):
        s.batch_mark_ready(user=users["supervisor"], batch=batch, password=PW)
    with pytest.raises(ValidationError):
        s.batch_line_clearance_sign(user=users["supervisor"], batch=batch, password=PW, confirmed=False)
    s.batch_line_clearance_sign(user=users["supervisor"], batch=batch, password=PW, confirmed=True)
    # Equipment made unusable: the interlock answer blocks "ready".
    from audit.context import audit_context

    gran = setup["equipment"]["GRAN"]
    with audit_context(action="test.dirty"):
        gran.cleaned_at = None
        gran.save()
    with pytest.raises(ValidationError, match="Step 10"):
        s.batch_mark_ready(user=users["supervisor"], batch=batch, password=PW)


@pytest.mark.req("BAT-2")
def test_start_freezes_recipe_snapshot(running, users):
    batch = running["batch"]
    record = batch.record
    assert record.snapshot["version"] == running["recipe"].version
    assert [st.number for st in batch.steps.all()] == [10, 20]
    entry = Entry.objects.get(batch=batch, name="Impeller speed")
    assert (entry.minimum, entry.maximum, entry.critical) == (Decimal("140"), Decimal("160"), True)
    running["order"].refresh_from_db()
    assert running["order"].status == "in_progress"


@pytest.mark.req("SEC-2")
def test_only_assigned_trained_operators_execute(running, users):
    from tests.conftest import make_user

    batch = running["batch"]
    step = batch.steps.get(number=10)
    stranger = make_user("op3", "operator")
    with pytest.raises(PermissionDenied, match="not assigned"):
        s.step_start(user=stranger, step=step, scan="GRAN-01")
    from guardian.shortcuts import assign_perm

    assign_perm("batches.execute_batch", stranger, batch)
    with pytest.raises(PermissionDenied, match="training"):
        s.step_start(user=fresh(stranger), step=step, scan="GRAN-01")


@pytest.mark.req("BAT-6")
def test_scan_must_match_step_equipment_and_order(running, users):
    batch = running["batch"]
    op = fresh(users["operator"])
    second = batch.steps.get(number=20)
    with pytest.raises(ValidationError, match="Step 10 is not finished"):
        s.step_start(user=op, step=second, scan="FBD-01")
    first = batch.steps.get(number=10)
    with pytest.raises(ValidationError, match="needs a GRAN"):
        s.step_start(user=op, step=first, scan="FBD-01")
    with pytest.raises(ValidationError, match="not a known"):
        s.step_start(user=op, step=first, scan="NOPE")
    step = s.step_start(user=op, step=first, scan="gran-01")
    assert step.status == StepStatus.ACTIVE and step.start_how == "scanned"
    running["equipment"]["GRAN"].refresh_from_db()
    assert running["equipment"]["GRAN"].status == "in_use"


@pytest.mark.req("BAT-7", "BAT-9")
def test_out_of_range_needs_comment_and_opens_deviation(running, users):
    batch = running["batch"]
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    entry = step.entries.get(name="Impeller speed")
    with pytest.raises(ValidationError, match="outside the limits"):
        s.entry_record(user=op, entry=entry, value="175", version=0)
    with pytest.raises(ValidationError, match="number"):
        s.entry_record(user=op, entry=entry, value="fast", version=0)
    entry = s.entry_record(user=op, entry=entry, value="175", version=0, comment="Motor surged")
    assert entry.in_range is False and entry.deviation_ref
    assert entry.entered_by == op and entry.how == "manual" and entry.entered_at
    kinds = {e.kind for e in s.batch_exceptions(batch)}
    assert {"out_of_range", "deviation"} <= kinds


@pytest.mark.req("BAT-2")
def test_machine_value_captured_and_override_needs_reason(running, users):
    from django.utils import timezone

    from audit.context import audit_context
    from equipment.models import EquipmentTag, TagReading
    from orders.models import ProcessParameter

    batch = running["batch"]
    entry = Entry.objects.get(batch=batch, name="Impeller speed")
    with audit_context(action="test.tag"):
        entry.equipment_tag = "speed"
        entry.save()
        tag = EquipmentTag.objects.create(
            equipment=running["equipment"]["GRAN"], key="speed", node_id="ns=2;s=speed", unit="rpm"
        )
    TagReading.objects.create(
        tag=tag,
        value=151.0,
        source_ts=timezone.now(),
        server_ts=timezone.now(),
        received_at=timezone.now(),
        status_code=0,
    )
    op = fresh(users["operator"])
    s.step_start(user=op, step=entry.step, scan="GRAN-01")
    machine = s.entry_record(user=op, entry=entry, value="", version=0)
    assert (machine.value, machine.how, machine.machine_value) == ("151", "machine", "151")
    assert ProcessParameter  # the recipe is untouched
    entry2 = Entry.objects.get(pk=entry.pk)
    # A second entry attempt on the same version is a conflict, never an overwrite.
    with pytest.raises(s.EntryConflict):
        s.entry_record(user=op, entry=entry2, value="151", version=0)


@pytest.mark.req("BAT-2")
def test_machine_override_requires_reason(running, users):
    from django.utils import timezone

    from audit.context import audit_context
    from equipment.models import EquipmentTag, TagReading

    batch = running["batch"]
    entry = Entry.objects.get(batch=batch, name="Impeller speed")
    with audit_context(action="test.tag"):
        entry.equipment_tag = "speed"
        entry.save()
        tag = EquipmentTag.objects.create(
            equipment=running["equipment"]["GRAN"], key="speed", node_id="ns=2;s=speed", unit="rpm"
        )
    TagReading.objects.create(
        tag=tag,
        value=151.0,
        source_ts=timezone.now(),
        server_ts=timezone.now(),
        received_at=timezone.now(),
        status_code=0,
    )
    op = fresh(users["operator"])
    s.step_start(user=op, step=entry.step, scan="GRAN-01")
    with pytest.raises(ValidationError, match="read from the machine"):
        s.entry_record(user=op, entry=entry, value="149", version=0)
    e = s.entry_record(user=op, entry=entry, value="149", version=0, override_reason="Probe fouled, read dial")
    assert e.how == "manual" and e.machine_value == "151" and e.override_reason
    assert "machine_overridden" in {x.kind for x in s.batch_exceptions(batch)}


@pytest.mark.req("BAT-10", "SEC-3")
def test_performer_signs_and_second_person_verifies(running, users):
    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    with pytest.raises(ValidationError, match="Record every value"):
        s.step_sign(user=op, step=step, password=PW)
    for entry in step.entries.all():
        s.entry_record(user=op, entry=entry, value=entry.expected_answer or "150", version=0)
    s.step_sign(user=op, step=step, password=PW)
    with pytest.raises(ValidationError, match="cannot verify their own"):
        s.step_verify(user=op, step=step, verifier_username="operator", password=PW)
    step.refresh_from_db()
    assert step.same_person_refusals == 1
    with pytest.raises(ValidationError, match="password"):
        s.step_verify(user=op, step=step, verifier_username="operator2", password="wrong")
    step = s.step_verify(user=op, step=step, verifier_username="operator2", password=PW)
    assert step.status == StepStatus.VERIFIED and step.verified_by.username == "operator2"
    assert "same_person_refused" in {x.kind for x in s.batch_exceptions(batch)}


@pytest.mark.req("BAT-11", "BAT-12", "BAT-14", "QC-10")
def test_complete_review_correct_approve_release_archive(running, users, client):
    from equipment.models import Equipment
    from materials.models import Lot

    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    run_all_steps(batch, users, values={"Impeller speed": "150"})
    with pytest.raises(ValidationError):
        s.batch_complete(user=fresh(users["operator"]), batch=batch, password=PW, output_quantity="abc")
    s.batch_complete(user=fresh(users["operator"]), batch=batch, password=PW, output_quantity="190")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED
    assert batch.record.yield_pct == Decimal("95.00")
    assert Equipment.objects.get(code="GRAN-01").status == "dirty"
    assert Lot.objects.get(produced_by=batch).status == "quarantine"
    # The reviewer may not be an executor.
    with pytest.raises(PermissionDenied):
        s.batch_review_start(user=fresh(users["operator2"]), batch=batch)
    qc = fresh(users["qc"])
    s.batch_review_start(user=qc, batch=batch)
    batch.refresh_from_db()
    s.batch_request_correction(user=qc, batch=batch, reason="Impeller speed typed wrongly?")
    entry = Entry.objects.get(batch=batch, name="Impeller speed")
    with pytest.raises(ValidationError, match="reason"):
        s.entry_correct(user=fresh(users["operator"]), entry=entry, value="152", reason="", version=entry.version)
    s.entry_correct(
        user=fresh(users["operator"]), entry=entry, value="152", reason="Transcription", version=entry.version
    )
    batch.refresh_from_db()
    s.batch_resubmit(user=fresh(users["operator"]), batch=batch)
    batch.refresh_from_db()
    s.batch_review_start(user=qc, batch=batch)
    batch.refresh_from_db()
    exceptions = s.batch_exceptions(batch)
    assert "corrected" in {e.kind for e in exceptions}
    with pytest.raises(ValidationError, match="need a disposition"):
        s.batch_approve_review(user=qc, batch=batch, password=PW)
    for e in exceptions:
        s.exception_dispose(user=qc, batch=batch, key=e.key, note="Checked, acceptable")
    s.batch_approve_review(user=qc, batch=batch, password=PW)
    batch.refresh_from_db()
    assert s.batch_record_review_problems(batch) == [] and s.batch_unsigned_steps(batch) == []
    # The quality app's two-step release moves the batch through these hooks.
    s.batch_on_qc_release(user=qc, batch=batch)
    with pytest.raises(PermissionDenied):
        s.batch_on_release(user=qc, batch=batch)
    s.batch_on_release(user=fresh(users["supervisor"]), batch=batch)
    s.batch_archive(user=fresh(users["qa"]), batch=batch)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.ARCHIVED
    # Archived: read-only forever, through services and the models.
    entry.refresh_from_db()
    with pytest.raises(ValidationError, match="archived"):
        s.entry_correct(user=fresh(users["operator"]), entry=entry, value="150", reason="x", version=entry.version)
    from audit.context import audit_context

    with audit_context(action="test.tamper"), pytest.raises(ValidationError, match="archived"):
        entry.value = "1"
        entry.save()
    with audit_context(action="test.tamper"), pytest.raises(ValidationError, match="archived"):
        batch.planned_quantity = 1
        batch.save()


@pytest.mark.req("BAT-12")
def test_quality_release_refused_until_record_reviewed(running, users):
    from quality.services.release import batch_qc_release, release_problems

    batch = running["batch"]
    problems = release_problems(batch)
    assert any("reviewed and approved" in p for p in problems)
    assert any("Step not signed" in p for p in problems)
    with pytest.raises(ValidationError):
        batch_qc_release(user=fresh(users["qc"]), batch=batch, password=PW)


@pytest.mark.req("BAT-9", "QC-7")
def test_out_of_range_opens_a_real_quality_deviation(running, users):
    from quality.selectors import open_deviations_for

    batch = running["batch"]
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    entry = step.entries.get(name="Impeller speed")
    entry = s.entry_record(user=op, entry=entry, value="175", version=0, comment="Motor surged")
    deviations = list(open_deviations_for("batches.batch", batch.pk))
    assert [d.number for d in deviations] == [entry.deviation_ref]
    assert deviations[0].source == "parameter" and deviations[0].classification == "major"
