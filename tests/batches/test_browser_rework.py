"""In the browser: the page that promises a rework batch leads to it (issue 16). From the rejected lot
the supervisor opens its approved rework disposition, starts the rework batch (signed), prepares and
starts it; the operator issues the nonconforming lot into it, executes the step and completes it;
the new lot shows where it came from and waits for QC."""

from __future__ import annotations

import pytest

from batches import services as s
from batches.models import Batch
from materials.models import Lot
from tests.batches.conftest import PW
from tests.batches.rework import approved_rework, build_rework_recipe, execute_batch, fail_and_reject, intermediate_spec
from tests.browser_fixtures import login, screenshot, swap

pytestmark = [pytest.mark.browser]


def _sign(page, form: str, username: str) -> None:
    box = page.locator(form)
    if box.locator("#id_sig_username").count():
        box.locator("#id_sig_username").fill(username)
    box.locator("#id_sig_password").fill(PW)


def _as(new_page, username):
    page, problems = new_page()
    login(page, username, PW)
    return page, problems


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


@pytest.mark.req("QC-2")
def test_the_rework_batch_is_started_and_run_from_the_pages(transactional_db, running, users, new_page):
    intermediate_spec(users)
    execute_batch(running["batch"], users, running["lots"])
    lot = fail_and_reject(Lot.objects.get(produced_by=running["batch"]), users)
    build_rework_recipe(users)
    disposition = approved_rework(lot, users)

    sup, sup_problems = _as(new_page, "supervisor")
    sup.goto(f"/materials/lots/{lot.code}/")
    _submit(sup, f"[data-testid=lot-disposition] a:has-text('{disposition.number}')")
    sup.wait_for_selector("[data-testid=rework-start-form]")
    screenshot(sup, "rework-01-disposition-waiting")
    _sign(sup, "[data-testid=rework-start-form]", "supervisor")
    _submit(sup, "[data-testid=rework-start-submit]")  # no operator chosen: refused in words, nothing made
    sup.wait_for_selector(".msg-error >> text=Assign at least one operator")
    assert not Batch.objects.filter(rework_lot=lot).exists()
    sup.check("[data-testid=rework-start-form] input[name=operators] >> nth=0")
    _sign(sup, "[data-testid=rework-start-form]", "supervisor")
    _submit(sup, "[data-testid=rework-start-submit]")
    sup.wait_for_selector("[data-testid=rework-banner]")
    batch = Batch.objects.get(rework_lot=lot)
    assert f"/batches/{batch.number}/" in sup.url
    assert lot.code in sup.inner_text("[data-testid=rework-banner]")
    screenshot(sup, "rework-02-rework-batch-planned")
    sup.check("[data-testid=clearance-form] input[name=confirmed]")
    _sign(sup, "[data-testid=clearance-form]", "supervisor")
    _submit(sup, "[data-testid=sign-clearance]")
    _sign(sup, "form:has([data-testid=mark-ready])", "supervisor")
    _submit(sup, "[data-testid=mark-ready]")
    _submit(sup, "[data-testid=start-batch]")
    sup.wait_for_selector("[data-testid=steps]")
    # The disposition now leads to its rework batch.
    sup.goto(f"/quality/nonconforming/{disposition.pk}/")
    assert sup.inner_text("[data-testid=rework-batch-link]") == batch.number
    sup_problems.check()

    op, op_problems = _as(new_page, "operator")
    op.goto(f"/materials/issue/{batch.number}/")
    op.click("[data-testid=line]:has-text('IM-GRN-500')")
    op.wait_for_selector("[name=lot_code]:focus")
    op.keyboard.type(lot.code)
    with op.expect_navigation():
        op.keyboard.press("Enter")
    op.wait_for_selector("[data-testid=issue-form]")  # the rejected lot is right for its own rework batch
    op.fill("#id_quantity", "196")
    _submit(op, "[data-testid=issue-form] button[type=submit]")
    op.wait_for_selector(".msg-success")
    step = batch.steps.get(number=10)
    op.goto(f"/batches/{batch.number}/step/10/")
    op.fill("[data-testid=scan]", s.step_code(step))
    swap(op, "[data-testid=scan-form] button")
    entry = step.entries.get()
    swap(op, f"[data-testid=answer-{entry.pk}-yes]")  # yes/no: a button; its block comes back, not the page
    _sign(op, "[data-testid=sign-form]", "operator")
    swap(op, "[data-testid=sign-step]")
    op.wait_for_selector("text=Step signed.")
    op.goto(f"/batches/{batch.number}/")
    op.fill("#id_output", "190")
    _sign(op, "[data-testid=complete-form]", "operator")
    _submit(op, "[data-testid=complete-batch]")
    op.wait_for_selector("text=Batch completed.")
    new_lot = Lot.objects.get(produced_by=batch)
    op.goto(f"/materials/lots/{new_lot.code}/")
    assert op.inner_text("[data-testid=reworked-from]") == lot.code
    assert op.inner_text("[data-testid=lot-status]") == "Quarantine"
    screenshot(op, "rework-03-reworked-lot-waits-for-qc")
    op_problems.check()
