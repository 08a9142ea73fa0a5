"""A review that asks for correction can ask for a step to be executed again: the step re-opens with
the reason, its earlier execution stays in the record struck through, and the PDF shows both (issue 16)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from batches import services as s
from batches.models import BatchStatus, Entry, StepAttempt
from tests.batches.conftest import PW, fresh, issue_all, run_all_steps


def _clean(users, code):
    from equipment.models import Equipment
    from equipment.services.care import equipment_cleaning_finish, equipment_cleaning_start

    eq = Equipment.objects.get(code=code)
    equipment_cleaning_start(equipment=eq, user=fresh(users["operator"]), kind="full")
    equipment_cleaning_finish(equipment=eq, user=fresh(users["operator"]), password=PW)


@pytest.fixture
def under_review(running, users):
    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    run_all_steps(batch, users, values={"Impeller speed": "150"})
    s.batch_complete(user=fresh(users["operator"]), batch=batch, password=PW, output_quantity="190")
    batch.refresh_from_db()
    s.batch_review_start(user=fresh(users["qc"]), batch=batch)
    batch.refresh_from_db()
    return batch


def test_reviewer_has_a_step_executed_again_and_the_first_execution_stays(under_review, users):
    from django.template.loader import render_to_string

    from batches.pdf import record_context

    batch = under_review
    qc = fresh(users["qc"])
    s.batch_request_correction(
        user=qc, batch=batch, reason="Impeller speed not from the HMI trend: granulate again", reexecute_steps=["10"]
    )
    batch.refresh_from_db()
    step = batch.steps.get(number=10)
    assert batch.status == BatchStatus.CORRECTION_REQUESTED
    assert (step.status, step.attempt, step.performed_by) == ("pending", 2, None)
    assert "granulate again" in step.reopen_reason
    (earlier,) = StepAttempt.objects.filter(step=step)
    assert earlier.attempt == 1 and earlier.reopened_by.username == "qc"
    assert {e["name"]: e["value"] for e in earlier.record["entries"]}["Impeller speed"] == "150"
    assert earlier.record["performed_by"] and earlier.record["verified_by"]
    assert Entry.objects.get(batch=batch, name="Impeller speed").value == ""
    # Not finished: the record cannot go back to review.
    with pytest.raises(ValidationError, match="not finished"):
        s.batch_resubmit(user=fresh(users["operator"]), batch=batch)
    # The step is executed again (equipment cleaned first) and signed, verified.
    _clean(users, "GRAN-01")
    op = fresh(users["operator"])
    again = s.step_start(user=op, step=step, scan="GRAN-01")
    for entry in again.entries.all():
        s.entry_record(user=op, entry=entry, value=entry.expected_answer or "152", version=entry.version)
    s.step_sign(user=op, step=again, password=PW)
    s.step_verify(user=fresh(users["operator2"]), step=again, verifier_username="operator2", password=PW)
    # Other steps stay closed during the correction.
    with pytest.raises(ValidationError, match="in progress"):
        s.step_sign(user=op, step=batch.steps.get(number=20), password=PW)
    s.batch_resubmit(user=op, batch=batch)
    batch.refresh_from_db()
    s.batch_review_start(user=qc, batch=batch)
    batch.refresh_from_db()
    kinds = {x.kind for x in s.batch_exceptions(batch)}
    assert "reexecuted" in kinds
    # The record (screen and PDF) shows both executions: the earlier one struck through.
    html = render_to_string("batches/_record_body.html", record_context(batch))
    assert 'data-testid="earlier-execution"' in html
    assert "<s>Impeller speed: 150 rpm" in html and "152" in html
    assert "Impeller speed: 150 rpm" in _struck_text_in_pdf(batch)  # as laid out by WeasyPrint
    for x in s.batch_exceptions(batch):
        s.exception_dispose(user=qc, batch=batch, key=x.key, note="Checked")
    s.batch_approve_review(user=qc, batch=batch, password=PW)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REVIEWED


def _struck_text_in_pdf(batch) -> str:
    """The text WeasyPrint lays out with a line through it in the batch record PDF."""
    import weasyprint
    from django.template.loader import render_to_string

    from batches.pdf import record_context

    html = render_to_string("batches/record_pdf.html", record_context(batch))
    document = weasyprint.HTML(string=html).render()
    struck: list[str] = []

    def walk(box):
        if "line-through" in (box.style["text_decoration_line"] or ()) and getattr(box, "text", None):
            struck.append(box.text)
        for child in getattr(box, "children", ()):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return " ".join(struck)


def test_only_executed_steps_of_the_batch_can_be_reopened(under_review, users):
    with pytest.raises(ValidationError, match="has no step 99"):
        s.batch_request_correction(user=fresh(users["qc"]), batch=under_review, reason="x", reexecute_steps=[99])
    under_review.refresh_from_db()
    assert under_review.status == BatchStatus.UNDER_REVIEW


def test_review_page_sends_a_step_back(under_review, users, client):
    from django.urls import reverse

    client.force_login(users["qc"])
    url = reverse("batches:review", kwargs={"number": under_review.number})
    assert b'data-testid="reexecute-10"' in client.get(url).content
    client.post(url, {"op": "request_correction", "reason": "Dry again", "reexecute": ["20"]})
    step = under_review.steps.get(number=20)
    assert step.status == "pending" and step.reopen_reason == "Dry again"
    client.force_login(users["operator"])
    page = client.get(reverse("batches:step", kwargs={"number": under_review.number, "step": 20}))
    assert b'data-testid="reopened"' in page.content and b'data-testid="scan"' in page.content
