"""Step sign-off gates: materials issued within tolerance, machine values captured, and review by
exception listing every exception of the batch from one place (issue 16)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.context import audit_context
from batches import services as s
from batches.models import Entry
from tests.batches.conftest import PW, fresh, issue_all


def _record_step_10(batch, op):
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    for entry in step.entries.all():
        s.entry_record(user=op, entry=entry, value=entry.expected_answer or "150", version=entry.version)
    return step


def _bind_speed_to_tag(running, *, reading: float | None):
    from equipment.models import EquipmentTag, TagReading

    entry = Entry.objects.get(batch=running["batch"], name="Impeller speed")
    with audit_context(action="test.tag"):
        entry.equipment_tag = "speed"
        entry.save()
        tag = EquipmentTag.objects.create(
            equipment=running["equipment"]["GRAN"], key="speed", node_id="ns=2;s=speed", unit="rpm"
        )
    if reading is not None:
        now = timezone.now()
        TagReading.objects.create(tag=tag, value=reading, source_ts=now, server_ts=now, received_at=now, status_code=0)
    return entry


def test_step_listing_materials_is_not_signed_until_they_are_issued(running, users):
    batch = running["batch"]
    op = fresh(users["operator"])
    step = _record_step_10(batch, op)
    with pytest.raises(ValidationError) as refused:
        s.step_sign(user=op, step=step, password=PW)
    text = " ".join(refused.value.messages)
    assert "not issued to the batch within tolerance" in text
    assert "RM-API-001: 0 kg issued, 169.15–170.85 kg needed." in text and "RM-EXC-010" in text
    step.refresh_from_db()
    assert step.status == "active" and step.performed_by is None
    issue_all(batch, users, running["lots"])
    step = s.step_sign(user=op, step=step, password=PW)
    assert step.status == "done" and step.material_exception == ""
    assert [m["material"] for m in step.material_check] == ["RM-API-001", "RM-EXC-010"]
    assert all(m["ok"] for m in step.material_check)
    assert "materials" not in {x.kind for x in s.batch_exceptions(batch)}


def test_partly_issued_materials_still_block_and_an_exception_needs_a_reason(running, users):
    from materials.services import lot_issue_to_batch

    batch = running["batch"]
    api_line = s.batch_bom_lines(batch)[0]
    lot_issue_to_batch(
        user=fresh(users["operator"]),
        batch=batch,
        lot_code=running["lots"]["api"].code,
        quantity=api_line.quantity,
        unit=api_line.unit,
        requirement=api_line,
        verifier=fresh(users["operator2"]),
        verifier_password=PW,
    )
    op = fresh(users["operator"])
    step = _record_step_10(batch, op)
    with pytest.raises(ValidationError) as refused:
        s.step_sign(user=op, step=step, password=PW, material_exception_reason="   ")
    text = " ".join(refused.value.messages)
    assert "RM-EXC-010: 0 kg issued" in text and "RM-API-001" not in text
    step = s.step_sign(
        user=op, step=step, password=PW, material_exception_reason="Excipient weighed on paper, scale down"
    )
    assert step.material_exception == "Excipient weighed on paper, scale down"
    assert [m["ok"] for m in step.material_check] == [True, False]
    (exc,) = [x for x in s.batch_exceptions(batch) if x.kind == "materials"]
    assert "RM-EXC-010" in exc.detail and "scale down" in exc.detail and exc.where.startswith("10.")


def test_value_bound_to_a_machine_tag_without_captured_data_needs_a_reason_and_is_flagged(running, users):
    entry = _bind_speed_to_tag(running, reading=None)
    op = fresh(users["operator"])
    s.step_start(user=op, step=entry.step, scan="GRAN-01")
    with pytest.raises(ValidationError, match="no value of speed has been captured"):
        s.entry_record(user=op, entry=entry, value="150", version=0)
    recorded = s.entry_record(user=op, entry=entry, value="150", version=0, override_reason="OPC UA link down")
    assert recorded.how == "manual" and recorded.machine_value == "" and recorded.override_reason
    (exc,) = [x for x in s.batch_exceptions(running["batch"]) if x.kind == "machine_missing"]
    assert "OPC UA link down" in exc.detail


def test_sign_off_takes_the_captured_machine_value(running, users):
    batch = running["batch"]
    entry = _bind_speed_to_tag(running, reading=152.0)
    issue_all(batch, users, running["lots"])
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=entry.step, scan="GRAN-01")
    check = step.entries.get(kind="check")
    s.entry_record(user=op, entry=check, value="Yes", version=0)
    s.step_sign(user=op, step=step, password=PW)
    entry.refresh_from_db()
    assert (entry.value, entry.how, entry.machine_value) == ("152", "machine", "152")
    assert entry.entered_by == op
    assert not {"machine_missing", "machine_overridden"} & {x.kind for x in s.batch_exceptions(batch)}


def test_sign_off_with_a_tag_value_neither_captured_nor_typed_is_refused(running, users):
    batch = running["batch"]
    entry = _bind_speed_to_tag(running, reading=None)
    issue_all(batch, users, running["lots"])
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=entry.step, scan="GRAN-01")
    s.entry_record(user=op, entry=step.entries.get(kind="check"), value="Yes", version=0)
    with pytest.raises(ValidationError, match="No machine value was captured for Impeller speed"):
        s.step_sign(user=op, step=step, password=PW)


def test_review_lists_every_deviation_of_the_batch_its_equipment_and_its_lots(running, users):
    from equipment.services.maintenance import fault_report
    from quality.services.deviations import deviation_raise

    batch = running["batch"]
    gran = running["equipment"]["GRAN"]
    # A deviation on the equipment before the batch used it is not this batch's.
    deviation_raise(user=users["qa"], title="Old gasket", description="Found at PM", source="manual", links=[gran])
    issue_all(batch, users, running["lots"])
    op = fresh(users["operator"])
    step = _record_step_10(batch, op)
    fault_report(equipment=gran, user=op, description="Impeller motor overload")
    fault_report(equipment=gran, user=op, description="Chopper stopped")
    lot_dev = deviation_raise(
        user=users["qa"],
        title="Supplier CoA mismatch",
        description="CoA assay differs",
        source="manual",
        links=[running["lots"]["exc"]],
    )
    s.step_sign(user=op, step=step, password=PW)
    listed = [x for x in s.batch_exceptions(batch) if x.kind == "deviation"]
    details = " ".join(x.detail for x in listed)
    assert details.count("Equipment fault during batch: GRAN-01") == 2
    assert lot_dev.number in details
    assert "Old gasket" not in details
    assert len({x.key for x in listed}) == len(listed) == 3


def test_out_of_range_deviation_is_listed_once(running, users):
    batch = running["batch"]
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    entry = s.entry_record(
        user=op, entry=step.entries.get(name="Impeller speed"), value="175", version=0, comment="Motor surged"
    )
    deviations = [x for x in s.batch_exceptions(batch) if x.kind == "deviation"]
    assert len(deviations) == 1 and entry.deviation_ref in deviations[0].detail


def test_step_page_blocks_the_sign_off_and_takes_the_exception(running, client, users, django_assert_max_num_queries):
    from django.urls import reverse

    batch = running["batch"]
    op = fresh(users["operator"])
    _record_step_10(batch, op)
    client.force_login(users["operator"])
    url = reverse("batches:step", kwargs={"number": batch.number, "step": 10})
    with django_assert_max_num_queries(45):
        page = client.get(url)
    assert b'data-testid="materials-blocking"' in page.content and page.content.count(b"material-short") == 2
    refused = client.post(url, {"op": "sign", "password": PW}, follow=True)
    assert b"not issued to the batch within tolerance" in refused.content
    assert batch.steps.get(number=10).status == "active"
    client.post(url, {"op": "sign", "password": PW, "material_exception_reason": "Scale offline, paper record"})
    assert batch.steps.get(number=10).material_exception == "Scale offline, paper record"
    client.force_login(users["qc"])
    review = client.get(reverse("batches:review", kwargs={"number": batch.number}))
    assert b"Materials not issued or out of tolerance" in review.content and b"Scale offline" in review.content
