"""In the browser: goods receipt -> labels -> (QC release) -> scan-first issue with a wedge scanner."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from materials.models import Lot
from materials.requirements import Requirement, register_provider, unregister_provider
from materials.services import lot_release, on_hand
from tests.browser_fixtures import login, screenshot
from tests.materials.conftest import make_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("MAT-1", "MAT-6", "MAT-7", "MAT-3")
def test_receipt_label_release_and_scan_issue(new_page, users, password, api, granules, wh):
    batch = make_batch("B-2611-001", granules)
    line = Requirement(material=api, quantity=Decimal("25"), unit="kg", tolerance_pct=Decimal(2), line_ref="10")

    def provider(b):
        return [line] if b.pk == batch.pk else []

    register_provider(provider)
    try:
        _run(new_page, users, password, api, batch, wh)
    finally:
        unregister_provider(provider)


def _page(new_page):
    page, problems = new_page()
    # Chromium asks for /favicon.ico, which the app does not serve; that is not a problem of these pages.
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    return page, problems


def _login(page, username, password):
    login(page, username, password)
    page.wait_for_load_state("load")  # let the home page finish, or its style sheet request is aborted


def _run(new_page, users, password, api, batch, wh):
    page, problems = _page(new_page)
    _login(page, "warehouse", password)
    page.goto("/materials/receive/")
    page.select_option("#id_material", str(api.pk))
    page.fill("#id_quantity", "40")
    page.select_option("#id_unit", "kg")
    page.fill("#id_containers", "2")
    page.fill("#id_supplier", "Shandong Keyuan")
    page.fill("#id_supplier_lot", "KY-2611")
    page.fill("#id_expiry_date", (timezone.localdate() + dt.timedelta(days=500)).isoformat())
    page.select_option("#id_location", str(wh.pk))
    screenshot(page, "materials-receipt-form")
    page.click("button[type=submit].btn-big")
    page.wait_for_selector("[data-testid=lot-code]")
    lot = Lot.objects.get(supplier_lot="KY-2611")
    assert page.inner_text("[data-testid=lot-code]") == lot.code
    assert "Quarantine" in page.inner_text("[data-testid=lot-status]")
    screenshot(page, "materials-lot-detail-quarantine")
    with page.context.expect_event("response", lambda r: r.request.method == "POST" and "/lots/" in r.url) as info:
        page.evaluate("document.querySelector('[data-testid=label-form]').target = '_blank'")
        page.click("[data-testid=label-form] button[type=submit]")
    assert info.value.headers["content-type"] == "application/pdf"
    assert lot.label_prints.count() == 1
    problems.check()

    from quality.seed_evidence import inspection_pass

    inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)  # QC's side, as services
    lot_release(user=users["qc"], lot=lot, password=password, reason="complies")

    op, op_problems = _page(new_page)
    _login(op, "operator", password)
    op.goto(f"/materials/issue/{batch.number}/")
    op.click("[data-testid=line]")
    op.wait_for_selector("[data-scan-field]")
    op.wait_for_selector("[name=lot_code]:focus")  # focused for the wedge scanner
    screenshot(op, "materials-issue-scan")
    op.keyboard.type(f"{lot.code}/002\n")  # what a keyboard-wedge scanner sends
    op.wait_for_selector("[data-testid=issue-form]")
    op.wait_for_selector("[name=quantity]:focus")
    op.keyboard.type("30\n")  # the line needs 25 kg ± 2 %
    op.wait_for_selector("[data-testid=refusal]")
    assert "Too much" in op.inner_text("[data-testid=refusal]")
    screenshot(op, "materials-issue-refused")
    op.fill("#id_quantity", "25")
    op.click("[data-testid=issue-form] button[type=submit]")
    op.wait_for_selector(".msg-success")
    assert "issued to batch" in op.inner_text(".msg-success")
    assert "25" in op.inner_text("[data-testid=issued]")
    screenshot(op, "materials-issue-done")
    op_problems.check()
    assert on_hand(lot) == 15


@pytest.mark.req("MAT-9")
def test_trace_tree_and_lot_list_in_chinese(new_page, graph, password):
    page, problems = _page(new_page)
    _login(page, "qc", password)
    with page.expect_navigation():
        page.click("[data-testid=lang-zh-hans]")
    page.wait_for_load_state("load")
    page.goto(f"/materials/lots/{graph['R1']}/trace/?direction=forward")
    tree = page.locator("[data-testid=trace-tree]")
    assert "用于批次" in tree.inner_text()  # "used in batch"
    assert graph["F1"] in tree.text_content()  # deeper levels are folded until opened
    screenshot(page, "materials-trace-forward-zh")
    page.goto(f"/materials/lots/{graph['F1']}/trace/?direction=backward")
    assert graph["R2"] in page.text_content("[data-testid=trace-tree]")
    # F1 is finished product: it stays in quarantine until the batch release (quality, QC-4/QC-10)
    page.goto("/materials/?status=quarantine")
    assert "待验" in page.inner_text("[data-testid=lot-table]")
    screenshot(page, "materials-lot-list-zh")
    problems.check()
