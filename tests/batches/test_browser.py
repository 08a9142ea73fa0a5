"""In the browser, a whole batch: prepare, start, scan, enter an out-of-range value with comment,
sign, verify with a second user, complete, review by exception, request a correction, correct,
approve, then the PDF. (Material issue and the quality release are done through their services
here; their own screens are tested by the materials and quality apps.)"""

from __future__ import annotations

import pytest
from django.test import override_settings

from batches.models import Batch, Entry
from tests.batches.conftest import PW, fresh, issue_all
from tests.browser_fixtures import answered_in_place, login, screenshot, swap

pytestmark = [pytest.mark.browser]


def settle(page) -> None:
    page.wait_for_load_state("networkidle")


def sign(page, form: str, username: str) -> None:
    box = page.locator(form)
    if box.locator("#id_sig_username").count():
        box.locator("#id_sig_username").fill(username)
    box.locator("#id_sig_password").fill(PW)


@pytest.mark.req("BAT-6", "BAT-7", "BAT-8", "BAT-9", "BAT-10", "BAT-12", "BAT-13", "QC-6", "QC-7")
@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_whole_batch_in_the_browser(transactional_db, setup, users, new_page):
    batch = setup["batch"]
    base = f"/batches/{batch.number}/"
    # Supervisor: preparation, line clearance, ready, start.
    page, _problems = new_page()
    login(page, "supervisor", PW)
    page.goto(base)
    page.wait_for_selector("[data-testid=preparation]")
    settle(page)
    screenshot(page, "batches-01-preparation")
    page.check("[data-testid=clearance-form] input[name=confirmed]")
    sign(page, "[data-testid=clearance-form]", "supervisor")
    page.click("[data-testid=sign-clearance]")
    page.wait_for_selector("[data-testid=clearance-signed]")
    sign(page, "form:has([data-testid=mark-ready])", "supervisor")
    page.click("[data-testid=mark-ready]")
    page.click("[data-testid=start-batch]")
    page.wait_for_selector("[data-testid=steps]")
    assert Batch.objects.get(pk=batch.pk).status == "in_progress"
    issue_all(Batch.objects.get(pk=batch.pk), users, setup["lots"])

    # Operator: step 10 — scan, out-of-range value with comment, check, sign.
    op, _ = new_page()
    login(op, "operator", PW)
    op.goto(f"{base}step/10/")
    op.fill("[data-testid=scan]", "GRAN-01")
    with answered_in_place(op):  # the screen as it now stands comes back in place, not as a new page
        op.press("[data-testid=scan]", "Enter")
    op.wait_for_selector("[data-testid=sign-step]")
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    check = Entry.objects.get(batch=batch, kind="check")
    op.fill(f"[data-testid=value-{speed.pk}]", "172")
    swap(op, f"[data-testid=record-{speed.pk}]")  # the value's block comes back, not the page
    assert "outside the limits" in op.inner_text(f"[data-testid=entry-{speed.pk}] .msg-error")
    op.fill(f"[data-testid=value-{speed.pk}]", "172")
    op.fill(f"[data-testid=comment-{speed.pk}]", "Impeller surged for 20 s")
    swap(op, f"[data-testid=record-{speed.pk}]")
    op.wait_for_selector(f"[data-testid=entry-{speed.pk}] [data-testid=value]")
    swap(op, f"[data-testid=answer-{check.pk}-yes]")  # a yes/no check is a button, not a typed word
    op.wait_for_selector(f"[data-testid=entry-{check.pk}] [data-testid=value]")
    settle(op)
    screenshot(op, "batches-02-operator-step")
    sign(op, "[data-testid=sign-form]", "operator")
    swap(op, "[data-testid=sign-step]")
    # Second person verifies on the same tablet.
    op.wait_for_selector("[data-testid=verify-form]")
    op.fill("[data-testid=verifier]", "operator")
    op.fill("[data-testid=verifier-password]", PW)
    swap(op, "[data-testid=verify-step]")
    op.wait_for_selector("text=cannot verify their own")
    op.fill("[data-testid=verifier]", "operator2")
    op.fill("[data-testid=verifier-password]", PW)
    swap(op, "[data-testid=verify-step]")
    op.wait_for_selector("text=Step verified.")
    settle(op)
    screenshot(op, "batches-03-verified")
    # Step 20 (no parameters): scan the dryer, sign.
    op.goto(f"{base}step/20/")
    op.fill("[data-testid=scan]", "FBD-01")
    with answered_in_place(op):
        op.press("[data-testid=scan]", "Enter")
    op.wait_for_selector("[data-testid=sign-step]")
    sign(op, "[data-testid=sign-form]", "operator")
    swap(op, "[data-testid=sign-step]")
    op.wait_for_selector("text=Step signed.")
    # Complete.
    op.goto(base)
    op.fill("#id_output", "190")
    sign(op, "[data-testid=complete-form]", "operator")
    op.click("[data-testid=complete-batch]")
    op.wait_for_selector("[data-testid=yield]")
    assert Batch.objects.get(pk=batch.pk).status == "completed"
    settle(op)
    screenshot(op, "batches-04-completed")

    # QC: review by exception, request a correction.
    qc, _ = new_page()
    login(qc, "qc", PW)
    qc.goto(f"{base}review/")
    qc.click("[data-testid=action-review_start]")
    qc.wait_for_selector("[data-testid=exception]")
    settle(qc)
    screenshot(qc, "batches-05-review-exceptions")
    qc.fill("[data-testid=reason-request_correction]", "Step 10 speed: check the HMI trend, was it 162?")
    qc.click("[data-testid=action-request_correction]")
    qc.wait_for_selector("text=Correction requested.")

    # Operator corrects with a reason; the old value stays struck through.
    op.goto(f"{base}step/10/")
    op.click(f"[data-testid=entry-{speed.pk}] summary")
    op.fill(f"[data-testid=correct-value-{speed.pk}]", "162")
    op.fill(f"[data-testid=correct-reason-{speed.pk}]", "Transcription error, HMI trend shows 162")
    op.fill(f"[data-testid=entry-{speed.pk}] form input[name=comment]", "Still above 160, deviation open")
    swap(op, f"[data-testid=correct-{speed.pk}]")
    op.wait_for_selector(f"[data-testid=entry-{speed.pk}] s")
    settle(op)
    screenshot(op, "batches-06-corrected")
    op.goto(base)
    op.click("[data-testid=resubmit]")

    # QC: review again, disposition every exception, approve (signed).
    qc.goto(f"{base}review/")
    qc.click("[data-testid=action-review_start]")
    qc.wait_for_selector("[data-testid=exception]")
    count = qc.locator("[data-testid=exception]").count()
    assert count >= 3  # out of range, deviation, corrected
    for _i in range(count):
        qc.locator("input[name=note]").first.fill("Checked trend and deviation; impact assessed in the deviation")
        qc.locator("[data-testid^=dispose-]").first.click()
        qc.wait_for_selector("text=Disposition recorded.")
    assert qc.locator("input[name=note]").count() == 0
    sign(qc, "[data-testid=form-approve_review]", "qc")
    qc.click("[data-testid=action-approve_review]")
    qc.wait_for_selector("text=Batch record approved.")
    assert Batch.objects.get(pk=batch.pk).status == "reviewed"
    settle(qc)
    screenshot(qc, "batches-07-approved")

    # The signed batch record PDF with its checksum.
    qc.goto(f"{base}record/")
    qc.click("[data-testid=generate-pdf]")
    qc.wait_for_selector("[data-testid=pdf-sha]")
    settle(qc)
    screenshot(qc, "batches-08-record")
    with qc.expect_download() as info:
        qc.click("[data-testid=download-pdf]")
    path = info.value.path()
    assert open(path, "rb").read(4) == b"%PDF"
    assert fresh(users["qc"])
