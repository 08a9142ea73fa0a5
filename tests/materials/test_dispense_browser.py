"""The dispensing booth in Chromium at 1280x800 (a 10-inch tablet), English and Chinese (issue 19)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from equipment.balances.simulator import BalanceSimulator
from materials.models import DispenseEntry
from materials.printer_simulator import LabelPrinterSimulator
from materials.requirements import Requirement, register_provider, unregister_provider
from tests.browser_fixtures import login, screenshot
from tests.materials.balances import make_balance
from tests.materials.conftest import make_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def booth(api, excipient, granules, released, settings):
    sim = BalanceSimulator(serial="B500123", capacity="6200").start()
    printer = LabelPrinterSimulator().start()
    settings.MES_LABEL_PRINTER = printer.address
    batch = make_batch("B-2612-DSP", granules, status="ready")
    line = Requirement(material=api, quantity=Decimal("0.250"), unit="kg", tolerance_pct=Decimal(2), line_ref="10")

    def provider(b):
        return [line] if b.pk == batch.pk else []

    register_provider(provider)
    try:
        yield {
            "sim": sim,
            "printer": printer,
            "batch": batch,
            "balance": make_balance("BAL-01", sim),
            "lot": released(api, "5"),
            "wrong": released(excipient, "5"),
        }
    finally:
        unregister_provider(provider)
        printer.stop()
        sim.stop()


def _submit(page, selector):
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state("load")


def test_operator_dispenses_on_the_balance(new_page, booth, users, password):
    sim, batch, lot = booth["sim"], booth["batch"], booth["lot"]
    page, problems = new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(page, "operator", password)
    page.wait_for_load_state("load")
    page.goto(f"/materials/dispense/{batch.number}/")
    _submit(page, "[data-testid=line]")
    page.fill("#id_balance", "bal-01")  # scanners send what the label says; case does not matter
    _submit(page, "[data-testid=balance-form] button[type=submit]")
    assert "daily balance check" in page.inner_text("[data-testid=balance-blocked]")
    screenshot(page, "dispense-balance-blocked")
    sim.put("200.02")
    page.fill("#id_test_weight", "TW-200-01")
    _submit(page, "[data-testid=check-form] button[type=submit]")
    assert page.locator("[data-testid=balance-blocked]").count() == 0

    page.fill("#id_lot_code", booth["wrong"].code)
    _submit(page, "[data-testid=scan-form] button[type=submit]")
    assert "Wrong material" in page.inner_text("[data-testid=refusal]")
    page.fill("#id_lot_code", f"{lot.code}/001")  # the container label of the source lot
    _submit(page, "[data-testid=scan-form] button[type=submit]")
    assert lot.code in page.inner_text("[data-testid=lot-ok]")

    sim.put("85.30")
    _submit(page, "[data-testid=tare]")
    assert "85.3 g" in page.inner_text("[data-testid=done]")
    sim.add("100.00")
    # The live display follows the pan (polled from the balance): 100 g of a 245-255 g window.
    page.wait_for_selector("[data-testid=live-weight][data-state=short]")
    assert "100 g" in page.inner_text("[data-testid=live-value]")
    _submit(page, "[data-testid=capture]")
    assert "Too little" in page.inner_text("[data-testid=refusal]")
    screenshot(page, "dispense-too-little")
    sim.add("150.40")
    page.wait_for_selector("[data-testid=live-weight][data-state=in]")
    assert "250.4 g" in page.inner_text("[data-testid=live-value]")
    screenshot(page, "dispense-live-weight")
    _submit(page, "[data-testid=capture]")
    row = page.locator("[data-testid=container]").first
    assert f"{lot.code}/D001" in row.inner_text() and "250.4 g" in row.inner_text()
    assert "0.250 kg" in page.inner_text("[data-testid=issued]")
    screenshot(page, "dispense-captured")

    _submit(page, "[data-testid=print-label]")
    for _ in range(50):
        if booth["printer"].jobs:
            break
        time.sleep(0.02)
    assert f"{lot.code}/D001" in booth["printer"].jobs[0]

    # The balance's display broke: the rest of a second line is typed, with a reason and a second person.
    entry = DispenseEntry.objects.get()
    assert entry.raw.startswith('I4 A "B500123"') and entry.labels_printed == 1
    problems.check()


def test_manual_entry_and_chinese_booth(new_page, booth, users, password):
    from tests.materials.balances import daily_check

    sim, batch, lot = booth["sim"], booth["batch"], booth["lot"]
    daily_check(booth["balance"], sim, users["operator"])
    page, problems = new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(page, "operator", password)
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.click("[data-testid=lang-zh-hans]")
    page.wait_for_load_state("load")
    page.goto(f"/materials/dispense/{batch.number}/")
    _submit(page, "[data-testid=line]")
    page.fill("#id_balance", "BAL-01")
    _submit(page, "[data-testid=balance-form] button[type=submit]")
    page.fill("#id_lot_code", lot.code)
    _submit(page, "[data-testid=scan-form] button[type=submit]")
    assert "称量" in page.inner_text("h1")
    page.click("[data-testid=manual] summary")
    page.fill("#id_gross", "335.7")
    page.fill("#id_tare", "85.3")
    page.fill("#id_reason", "天平显示屏故障")
    page.fill("#id_verifier", "operator2")
    page.fill("#id_verifier_password", password)
    screenshot(page, "dispense-manual-zh")
    _submit(page, "[data-testid=manual] button[type=submit]")
    assert page.locator("[data-testid=manual-flag]").count() == 1
    entry = DispenseEntry.objects.get()
    assert entry.manual and entry.verified_by == users["operator2"] and entry.manual_reason == "天平显示屏故障"
    screenshot(page, "dispense-booth-zh")
    problems.check()
