"""In the browser: the operator's sign-off is blocked until the step's materials are issued (or an
exception is recorded with a reason), and QC's review by exception shows it together with the
equipment-fault deviations raised on the batch (issue 16)."""

from __future__ import annotations

import pytest

from batches import services as s
from batches.models import Batch, Entry
from tests.batches.conftest import PW, fresh
from tests.browser_fixtures import answered_in_place, login, screenshot, swap

pytestmark = [pytest.mark.browser]


def _sign(page, form: str) -> None:
    page.locator(form).locator("#id_sig_password").fill(PW)


def test_blocked_sign_off_and_review_by_exception(transactional_db, running, users, new_page):
    from equipment.services.maintenance import fault_report

    batch = running["batch"]
    base = f"/batches/{batch.number}/"
    op, _ = new_page()
    login(op, "operator", PW)
    op.goto(f"{base}step/10/")
    op.fill("[data-testid=scan]", "GRAN-01")
    with answered_in_place(op):
        op.press("[data-testid=scan]", "Enter")
    op.wait_for_selector("[data-testid=sign-step]")
    # Nothing issued yet: the screen says so before the operator tries.
    assert op.locator("[data-testid=material-short]").count() == 2
    assert op.locator("[data-testid=materials-blocking]").is_visible()
    for entry in Entry.objects.filter(batch=batch, step__number=10):
        if entry.expected_answer:  # a yes/no check is answered with its button
            op.click(f"[data-testid=answer-{entry.pk}-yes]")
        else:
            op.fill(f"[data-testid=value-{entry.pk}]", "150")
            op.click(f"[data-testid=record-{entry.pk}]")
        op.wait_for_selector(f"[data-testid=entry-{entry.pk}] [data-testid=value]")
    fault_report(equipment=running["equipment"]["GRAN"], user=fresh(users["operator"]), description="Motor overload")
    _sign(op, "[data-testid=sign-form]")
    swap(op, "[data-testid=sign-step]")
    op.wait_for_selector(".msg-error >> text=not issued to the batch within tolerance")
    assert "RM-API-001: 0 kg issued" in op.content()
    assert Batch.objects.get(pk=batch.pk).steps.get(number=10).status == "active"
    screenshot(op, "batches-gates-01-sign-blocked")
    op.fill("[data-testid=material-exception-reason]", "Dispensed in the weighing room on paper; scale offline")
    _sign(op, "[data-testid=sign-form]")
    swap(op, "[data-testid=sign-step]")
    op.wait_for_selector("text=Step signed.")
    step = batch.steps.get(number=10)
    assert step.status == "done" and "scale offline" in step.material_exception

    # The rest of the batch through the services.
    s.step_verify(user=fresh(users["operator2"]), step=step, verifier_username="operator2", password=PW)
    o = fresh(users["operator"])
    s.step_sign(user=o, step=s.step_start(user=o, step=batch.steps.get(number=20), scan="FBD-01"), password=PW)
    s.batch_complete(user=o, batch=Batch.objects.get(pk=batch.pk), password=PW, output_quantity="190")

    qc, _ = new_page()
    login(qc, "qc", PW)
    qc.goto(f"{base}review/")
    qc.click("[data-testid=action-review_start]")
    qc.wait_for_selector("[data-testid=exception]")
    text = qc.inner_text("main") if qc.locator("main").count() else qc.content()
    assert "Materials not issued or out of tolerance" in text and "scale offline" in text
    assert "Equipment fault during batch: GRAN-01" in text
    screenshot(qc, "batches-gates-02-review-by-exception")
    count = qc.locator("[data-testid=exception]").count()
    for _i in range(count):
        qc.locator("input[name=note]").first.fill("Checked the paper weighing record and the fault report")
        qc.locator("[data-testid^=dispose-]").first.click()
        qc.wait_for_selector("text=Disposition recorded.")
    _sign(qc, "[data-testid=form-approve_review]")
    qc.click("[data-testid=action-approve_review]")
    qc.wait_for_selector("text=Batch record approved.")
    assert Batch.objects.get(pk=batch.pk).status == "reviewed"


def _record_step_values(page, batch, number: int) -> None:
    for entry in Entry.objects.filter(batch=batch, step__number=number):
        if entry.expected_answer:  # a yes/no check is answered with its button
            page.click(f"[data-testid=answer-{entry.pk}-yes]")
        else:
            page.fill(f"[data-testid=value-{entry.pk}]", "150")
            page.click(f"[data-testid=record-{entry.pk}]")
        page.wait_for_selector(f"[data-testid=entry-{entry.pk}] [data-testid=value]")


def test_sign_off_is_refused_with_its_reason_until_the_materials_are_issued(transactional_db, running, users, new_page):
    """The operator tries to sign the dispensing step with nothing issued: refused on the step page,
    in words, the step stays open and no signature is written; once the lots are issued (stores,
    with a second person), the same page shows the materials within tolerance and signing works."""
    from audit.models import Signature
    from tests.batches.conftest import issue_all

    batch = running["batch"]
    step_url = f"/batches/{batch.number}/step/10/"
    op, problems = new_page()
    login(op, "operator", PW)
    op.goto(step_url)
    op.fill("[data-testid=scan]", "GRAN-01")
    with answered_in_place(op):
        op.press("[data-testid=scan]", "Enter")
    op.wait_for_selector("[data-testid=sign-step]")
    _record_step_values(op, batch, 10)
    signatures = Signature.objects.count()

    _sign(op, "[data-testid=sign-form]")
    swap(op, "[data-testid=sign-step]")
    # The refusal message (the blocking notice on the sign form says the same rule before trying).
    refusal = op.locator(".msg-error[role=status]", has_text="not issued to the batch within tolerance")
    refusal.wait_for()
    assert "RM-API-001: 0 kg issued" in refusal.inner_text()
    assert op.locator("[data-testid=materials-blocking]").is_visible()
    assert op.locator("[data-testid=material-short]").count() == 2
    step = batch.steps.get(number=10)
    assert step.status == "active" and not step.material_exception
    assert Signature.objects.count() == signatures  # a refused sign-off signs nothing
    screenshot(op, "batches-gates-03-sign-refused-materials-not-issued")

    issue_all(batch, users, running["lots"])
    op.goto(step_url)
    op.wait_for_selector("[data-testid=sign-step]")
    assert op.locator("[data-testid=material-short]").count() == 0
    assert op.locator("[data-testid=materials-blocking]").count() == 0
    assert op.locator("text=within tolerance").count() >= 2
    _sign(op, "[data-testid=sign-form]")
    swap(op, "[data-testid=sign-step]")
    op.wait_for_selector("text=Step signed.")
    screenshot(op, "batches-gates-04-signed-after-issue")
    step.refresh_from_db()
    assert step.status == "done" and step.performed_by_id == users["operator"].pk and not step.material_exception
    problems.check()
