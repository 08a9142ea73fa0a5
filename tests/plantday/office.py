"""The morning of the plant day: the ERP plan, the order, the materials and their QC, the equipment.

One function per role step; each drives that user's own browser context as the user would."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

from django.utils import timezone

from tests.plantday.walk import Day, goto, home, screens, sign, submit

ERP_REFERENCE = "4500-PLANT-DAY"
RECEIPTS = (("RM-API-001", "200", "Shandong Keyuan Pharma", "KY-2611"), ("RM-EXC-010", "50", "JRS Pharma", "JRS-88"))


def erp_plan_arrives(day: Day, base_url: str) -> None:
    """The ERP pushes today's plan to the API with its own token over HTTP on loopback."""
    from orders.models import ProductionOrder

    start = timezone.now() + dt.timedelta(hours=1)
    plan = {
        "plan_id": "PP-PLANT-DAY",
        "lines": [{
            "erp_reference": ERP_REFERENCE, "product_code": "IM-GRN-500", "quantity": "200", "unit": "kg",
            "planned_start": start.isoformat(), "planned_end": (start + dt.timedelta(hours=8)).isoformat(),
            "line_code": "L1",
        }],
    }  # fmt: skip
    request = urllib.request.Request(
        f"{base_url}/api/v1/erp/production-plans/",
        data=json.dumps(plan).encode(),
        headers={"Authorization": f"Token {day.plant['erp_token']}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback server
        assert response.status == 201, response.read()
    order = ProductionOrder.objects.get(erp_reference=ERP_REFERENCE)
    assert order.status == "draft" and order.created_by.username == "erp-link"
    day.made["order"] = order


def planner_completes_and_submits_the_order(day: Day) -> None:
    """The planner finds the ERP order in the list, completes it (resources) and submits it, signed."""
    page, order = day.page("planner"), day.made["order"]
    home(day, "planner")
    goto(page, "/orders/?status=draft")
    screens(page, "planner", "orders")
    page.click(f"tr[data-order='{order.number}'] a")
    page.click("[data-testid=edit-order]")
    page.fill("#id_resource_notes", "Granulator GRAN-01 and dryer FBD-01, line 1 day shift")
    submit(page, "[data-testid=save-order]")
    page.click("[data-testid=action-submit]")
    sign(page, "form:has([data-testid=confirm-action])", "planner", reason="Plan PP-PLANT-DAY checked")
    submit(page, "[data-testid=confirm-action]")
    page.wait_for_selector("h1 [data-status=submitted]")
    day.check("planner")


def supervisor_approves_releases_and_creates_the_batch(day: Day) -> None:
    """Approval queue -> review (signed) -> release (signed) -> one batch for both operators."""
    from batches.models import Batch

    page, order = day.page("supervisor"), day.made["order"]
    home(day, "supervisor")
    goto(page, "/orders/approvals/")
    screens(page, "supervisor", "approvals")
    page.click(f"[data-testid=review-{order.number}]")
    page.wait_for_selector("[data-testid=resources-ok]")
    sign(page, "form:has([data-testid=approve])", "supervisor", reason="Line and materials checked")
    submit(page, "[data-testid=approve]")
    goto(page, f"/orders/{order.pk}/")
    page.click("[data-testid=action-release]")
    sign(page, "form:has([data-testid=confirm-action])", "supervisor")
    submit(page, "[data-testid=confirm-action]")
    submit(page, "[data-testid=create-batches]")
    screens(page, "supervisor", "create-batches")
    page.fill("#id_count", "1")
    for name in ("Qiang Li", "Jing Chen"):
        page.get_by_label(name, exact=True).check()
    submit(page, "[data-testid=confirm-batches]")
    page.wait_for_selector("[data-testid=batch-table] tbody tr")
    day.made["batch"] = Batch.objects.get(order=order)
    day.check("supervisor")


def warehouse_receives_the_materials(day: Day) -> None:
    """Goods receipt of the two raw materials into quarantine, one lot each."""
    from materials.models import Location, Lot, Material

    page = day.page("warehouse")
    home(day, "warehouse")
    store = Location.objects.get(code="WH-A01")
    lots = []
    for code, quantity, supplier, supplier_lot in RECEIPTS:
        goto(page, "/materials/receive/")
        page.select_option("#id_material", str(Material.objects.get(code=code).pk))
        page.fill("#id_quantity", quantity)
        page.select_option("#id_unit", "kg")
        page.fill("#id_containers", "2")
        page.fill("#id_supplier", supplier)
        page.fill("#id_supplier_lot", supplier_lot)
        page.select_option("#id_location", str(store.pk))
        submit(page, "[data-testid=receipt-form] button[type=submit]")
        page.wait_for_selector("[data-testid=lot-code]")
        lots.append(Lot.objects.get(supplier_lot=supplier_lot))
    assert {lot.status for lot in lots} == {"quarantine"}
    screens(page, "warehouse", "lot")
    screens(page, "warehouse", "receipt", "/materials/receive/")
    day.made["lots"] = lots
    day.check("warehouse")


def _enter_results(page, inspection, values: dict) -> None:
    """One result per test item: numbers typed, pass/fail and text items judged conforming."""
    for item in inspection.specification.items.order_by("sequence"):
        form = f"[data-testid=enter-{item.pk}]"
        if item.kind == "numeric":
            page.fill(f"{form} input[name=value]", values[item.name])
        else:
            page.check(f"{form} input[name=passed][value='1']")
            if item.kind == "text":
                page.fill(f"{form} input[name=text]", "Conforms")
        submit(page, f"{form} button[type=submit]")


INCOMING_VALUES = {"Assay": "99.6", "Loss on drying": "0.2"}


def qc_tests_and_releases_the_lots(day: Day) -> None:
    """QC's worklist -> each incoming inspection: results, complete (signed), release the lot (signed)."""
    from quality.models import Inspection

    page = day.page("qc")
    home(day, "qc")
    for lot in day.made["lots"]:
        inspection = Inspection.objects.get(lot=lot)
        goto(page, "/quality/inspections/")
        page.click(f"[data-testid=worklist] a:text-is('{inspection.number}')")
        _enter_results(page, inspection, INCOMING_VALUES)
        sign(page, "[data-testid=form-complete]", "qc")
        submit(page, "[data-testid=form-complete] button[type=submit]")
        assert page.inner_text("[data-testid=inspection-status]") == "Passed"
        sign(page, "[data-testid=form-release-lot]", "qc", reason="Complies with the incoming specification")
        submit(page, "[data-testid=form-release-lot] button[type=submit]")
        lot.refresh_from_db()
        assert lot.status == "released", lot.status
    screens(page, "qc", "inspection")
    screens(page, "qc", "worklist", "/quality/inspections/")
    day.check("qc")


def maintenance_does_the_daily_checks(day: Day) -> None:
    """The daily check (点检) of both machines of the batch: every checklist item OK."""
    page = day.page("maintenance")
    home(day, "maintenance")
    for eq in day.plant["equipment"].values():
        goto(page, f"/equipment/{eq.pk}/daily-check/")
        for radio in page.locator("[data-testid=daily-check-form] input[type=radio][value=ok]").all():
            radio.check()
        page.fill("#id_remarks", "Before the day shift")
        submit(page, "[data-testid=daily-check-form] button[type=submit]")
        page.wait_for_selector("[data-testid=logbook]")
    screens(page, "maintenance", "board", "/equipment/")
    day.check("maintenance")


def operator_cleans_the_equipment(day: Day) -> None:
    """Yesterday's batch left both machines dirty: full cleaning per SOP, signed off.

    Production cleans its own equipment (the maintenance role has no cleaning permission, by the
    plant's least-privilege role design), so the operator does this before preparing the batch."""
    from equipment.models import EquipmentStatus

    page = day.page("operator")
    for eq in day.plant["equipment"].values():
        goto(page, f"/equipment/{eq.pk}/cleaning/start/")
        page.select_option("#id_kind", "full")
        page.fill("#id_procedure", "SOP-CL-031")
        submit(page, "[data-testid=submit]")
        page.click("[data-testid=sign-off-cleaning]")
        page.fill("#id_remarks", "Washed with purified water, visually clean, swab taken.")
        sign(page, "[data-testid=action-form]", "operator", reason="Cleaned per SOP-CL-031")
        submit(page, "[data-testid=submit]")
        assert "May be used now." in page.get_by_test_id("usability").inner_text()
        eq.refresh_from_db()
        assert eq.status == EquipmentStatus.AVAILABLE
    screens(page, "operator", "equipment")
    day.check("operator")
