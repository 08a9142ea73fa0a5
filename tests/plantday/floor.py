"""The plant day on the shop floor: preparation, execution with scans and machine values, completion,
review by exception with a correction. One function per role step."""

from __future__ import annotations

from tests.browser_fixtures import answered_in_place, swap
from tests.plantday.walk import PW, Day, goto, home, screens, settle, sign, submit

MACHINE_TEMPERATURES = {"GRAN-01": 47.5, "FBD-01": 52.0}
SPEED_SURGE = "172"


def supervisor_prepares_and_starts_the_batch(day: Day) -> None:
    """Preparation checks, line clearance (signed), ready (signed), start."""
    page, batch = day.page("supervisor"), day.made["batch"]
    goto(page, f"/batches/{batch.number}/")
    page.wait_for_selector("[data-testid=preparation]")
    screens(page, "supervisor", "batch-preparation")
    page.check("[data-testid=clearance-form] input[name=confirmed]")
    sign(page, "[data-testid=clearance-form]", "supervisor")
    submit(page, "[data-testid=sign-clearance]")
    page.wait_for_selector("[data-testid=clearance-signed]")
    sign(page, "form:has([data-testid=mark-ready])", "supervisor")
    submit(page, "[data-testid=mark-ready]")
    submit(page, "[data-testid=start-batch]")
    page.wait_for_selector("[data-testid=steps]")
    batch.refresh_from_db()
    assert batch.status == "in_progress"
    day.check("supervisor")


def machines_report_their_values(day: Day, simulator) -> None:
    """The OPC UA simulator's machines run; the poller (the Celery beat task) stores their values."""
    from equipment.tasks import poll_opcua

    for code, value in MACHINE_TEMPERATURES.items():
        simulator.set(code, "temperature", value)
    # The test thread plays celery beat. Celery's "never join inside a task" guard is one flag for
    # the whole process, raised while an eager task runs on a live-server thread; this thread is not
    # a task, so the guard does not apply to it.
    outcome = poll_opcua.apply().get(disable_sync_subtasks=False)
    assert all(result["ok"] for result in outcome.values()), outcome


def _issue_line(page, material_code: str, lot_code: str, quantity: str) -> None:
    """Scan-first issue of one bill-of-materials line, checked by the second operator."""
    page.click(f"[data-testid=line]:has-text('{material_code}')")
    page.wait_for_selector("[name=lot_code]:focus")
    page.keyboard.type(lot_code)  # a keyboard-wedge scanner types the barcode, then Enter
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=issue-form]")
    page.fill("#id_quantity", quantity)
    page.fill("[data-testid=issue-form] input[name=verifier]", "operator2")
    page.fill("[data-testid=issue-form] input[name=verifier_password]", PW)
    submit(page, "[data-testid=issue-form] button[type=submit]")
    page.wait_for_selector(".msg-success")


def operators_issue_the_materials(day: Day) -> None:
    """From the first step, the operator issues each material line; operator2 checks the weighing."""
    page, batch = day.page("operator"), day.made["batch"]
    home(day, "operator")
    goto(page, f"/batches/{batch.number}/step/10/")
    submit(page, "[data-testid=issue-materials]")
    api, mcc = day.made["lots"]
    _issue_line(page, "RM-API-001", api.code, "170")
    goto(page, f"/materials/issue/{batch.number}/")
    _issue_line(page, "RM-EXC-010", mcc.code, "20")
    screens(page, "operator", "issue")
    day.check("operator")


def _scan(page, barcode: str) -> None:
    page.fill("[data-testid=scan]", barcode)
    with answered_in_place(page):  # the started screen comes back in place, not as a new page
        page.press("[data-testid=scan]", "Enter")
    page.wait_for_selector("[data-testid=sign-step]")
    settle(page)


def _record(page, entry, value: str | None = None, comment: str = "") -> None:
    """Record one value; None keeps the machine value the field was filled with."""
    if value is not None:
        page.fill(f"[data-testid=value-{entry.pk}]", value)
    if comment:
        page.fill(f"[data-testid=comment-{entry.pk}]", comment)
    swap(page, f"[data-testid=record-{entry.pk}]")  # its block comes back, not the page


def _sign_step(page) -> None:
    sign(page, "[data-testid=sign-form]", "operator")
    swap(page, "[data-testid=sign-step]")


def operator_granulates(day: Day) -> None:
    """Step 10: scan the granulator, an impeller surge out of range (comment -> deviation), the
    machine's temperature, the end-point check, sign; verifying one's own step is refused."""
    from batches.models import Entry

    page, batch = day.page("operator"), day.made["batch"]
    goto(page, f"/batches/{batch.number}/step/10/")
    _scan(page, "GRAN-01")
    entries = {e.name: e for e in Entry.objects.filter(batch=batch, step__number=10)}
    speed, temperature = entries["Impeller speed"], entries["Product temperature"]
    assert page.inner_text(f"[data-testid=entry-{temperature.pk}] [data-testid=machine-value]").startswith("47.5")
    _record(page, speed, SPEED_SURGE)
    assert "outside the limits" in page.inner_text(".msg-error")
    _record(page, speed, SPEED_SURGE, comment="Impeller surged for 20 s")
    _record(page, temperature)
    swap(page, f"[data-testid=answer-{entries['End-point reached?'].pk}-yes]")  # yes/no: a button
    screens(page, "operator", "step")
    _sign_step(page)
    _verify(page, "operator", "cannot verify their own")
    temperature.refresh_from_db()
    assert temperature.how == "machine" and temperature.value == "47.5"
    day.check("operator")


def _verify(page, verifier: str, expected: str) -> None:
    page.fill("[data-testid=verifier]", verifier)
    page.fill("[data-testid=verifier-password]", PW)
    swap(page, "[data-testid=verify-step]")
    page.wait_for_selector(f"text={expected}")


def operator2_verifies_the_granulation(day: Day) -> None:
    """The second operator checks step 10 on their own tablet and verifies it with their password."""
    page, batch = day.page("operator2"), day.made["batch"]
    home(day, "operator2")
    goto(page, f"/batches/{batch.number}/step/10/")
    page.wait_for_selector("[data-testid=verify-form]")
    screens(page, "operator2", "verify")
    _verify(page, "operator2", "Step verified.")
    day.check("operator2")


def operator_dries_and_completes(day: Day) -> None:
    """Step 20: scan the dryer, the machine's inlet air temperature, sign; complete the batch (signed)."""
    from batches.models import Entry

    page, batch = day.page("operator"), day.made["batch"]
    goto(page, f"/batches/{batch.number}/step/20/")
    _scan(page, "FBD-01")
    inlet = Entry.objects.get(batch=batch, step__number=20, name="Inlet air temperature")
    _record(page, inlet)
    _sign_step(page)
    page.wait_for_selector("text=Step signed.")
    goto(page, f"/batches/{batch.number}/")
    page.fill("#id_output", "190")
    sign(page, "[data-testid=complete-form]", "operator")
    submit(page, "[data-testid=complete-batch]")
    page.wait_for_selector("[data-testid=yield]")
    screens(page, "operator", "batch")
    batch.refresh_from_db()
    assert batch.status == "completed"
    day.check("operator")


def qc_reviews_and_requests_a_correction(day: Day) -> None:
    """Review by exception: the surge is listed; QC asks the operator to check the HMI trend, and has the
    drying executed again (its first execution stays in the record, struck through)."""
    page, batch = day.page("qc"), day.made["batch"]
    goto(page, f"/batches/{batch.number}/review/")
    submit(page, "[data-testid=action-review_start]")
    page.wait_for_selector("[data-testid=exception]")
    page.check("[data-testid=reexecute-20]")
    page.fill(
        "[data-testid=reason-request_correction]",
        "Step 10 speed: check the HMI trend, was it 165? Step 20: dryer door alarm during drying, dry again.",
    )
    submit(page, "[data-testid=action-request_correction]")
    page.wait_for_selector("text=Correction requested.")
    day.check("qc")


def operator_corrects_and_resubmits(day: Day) -> None:
    """The operator corrects with a reason (the old value stays visible, struck through), resubmits."""
    from batches.models import Entry

    page, batch = day.page("operator"), day.made["batch"]
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    goto(page, f"/batches/{batch.number}/step/10/")
    page.click(f"[data-testid=entry-{speed.pk}] summary")
    page.fill(f"[data-testid=correct-value-{speed.pk}]", "165")
    page.fill(f"[data-testid=correct-reason-{speed.pk}]", "Transcription error, HMI trend shows 165")
    page.fill(f"[data-testid=entry-{speed.pk}] form input[name=comment]", "Still above 160, deviation open")
    swap(page, f"[data-testid=correct-{speed.pk}]")
    page.wait_for_selector(f"[data-testid=entry-{speed.pk}] s")
    _dry_again(day, page, batch)
    goto(page, f"/batches/{batch.number}/")
    submit(page, "[data-testid=resubmit]")
    day.check("operator")


def _dry_again(day: Day, page, batch) -> None:
    """Step 20 executed again: the dryer (dirty since the batch completed) is cleaned, scanned, signed."""
    from batches.models import Entry

    dryer = day.plant["equipment"]["FBD-01"]
    goto(page, f"/equipment/{dryer.pk}/cleaning/start/")
    page.select_option("#id_kind", "full")
    page.fill("#id_procedure", "SOP-CL-031")
    submit(page, "[data-testid=submit]")
    page.click("[data-testid=sign-off-cleaning]")
    page.fill("#id_remarks", "Cleaned before drying again.")
    sign(page, "[data-testid=action-form]", "operator", reason="Cleaned per SOP-CL-031")
    submit(page, "[data-testid=submit]")
    goto(page, f"/batches/{batch.number}/step/20/")
    _scan(page, "FBD-01")
    _record(page, Entry.objects.get(batch=batch, step__number=20, name="Inlet air temperature"))
    _sign_step(page)
    page.wait_for_selector("text=Step signed.")
    goto(page, f"/batches/{batch.number}/record/")
    page.wait_for_selector("[data-testid=earlier-execution]")
    screens(page, "operator", "record-step-executed-again")


def qc_approves_the_record(day: Day) -> None:
    """Second review: every exception dispositioned with a note, the record approved (signed)."""
    page, batch = day.page("qc"), day.made["batch"]
    goto(page, f"/batches/{batch.number}/review/")
    submit(page, "[data-testid=action-review_start]")
    page.wait_for_selector("[data-testid=exception]")
    screens(page, "qc", "review")
    count = page.locator("[data-testid=exception]").count()
    assert count >= 3, count  # out of range, its deviation, the correction
    for _ in range(count):
        page.locator("input[name=note]").first.fill("Checked trend and deviation; impact assessed in the deviation")
        submit(page, "[data-testid^=dispose-] >> nth=0")
        page.wait_for_selector("text=Disposition recorded.")
    sign(page, "[data-testid=form-approve_review]", "qc")
    submit(page, "[data-testid=action-approve_review]")
    page.wait_for_selector("text=Batch record approved.")
    batch.refresh_from_db()
    assert batch.status == "reviewed"
    day.check("qc")
