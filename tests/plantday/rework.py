"""The plant day's rework loop (issue 16): granules bought in from a contract manufacturer fail incoming
QC; QC rejects the lot and proposes rework, QA approves it; the supervisor starts the rework batch from
the disposition (signed) and prepares it; the operator takes the rejected lot into it, executes the
rework step and completes it; the new lot is linked to the original and waits for QC again."""

from __future__ import annotations

from tests.browser_fixtures import swap
from tests.plantday.walk import Day, goto, screens, sign, submit

CMO_LOT = "CMO-GR-2211"


def warehouse_receives_granules_from_the_cmo(day: Day) -> None:
    from materials.models import Location, Lot, Material

    page = day.page("warehouse")
    granules = Material.objects.get(code="IM-GRN-500")
    store = Location.objects.filter(active=True, condition=granules.storage_condition).order_by("code").first()
    goto(page, "/materials/receive/")
    page.select_option("#id_material", str(granules.pk))
    page.fill("#id_quantity", "180")
    page.select_option("#id_unit", "kg")
    page.fill("#id_containers", "4")
    page.fill("#id_supplier", "Sinopharm CMO")
    page.fill("#id_supplier_lot", CMO_LOT)
    page.select_option("#id_location", str(store.pk))
    submit(page, "[data-testid=receipt-form] button[type=submit]")
    page.wait_for_selector("[data-testid=lot-code]")
    day.made["cmo_lot"] = Lot.objects.get(supplier_lot=CMO_LOT)
    day.check("warehouse")


def qc_rejects_the_granules_and_proposes_rework(day: Day) -> None:
    """Appearance fails (lumps): the inspection fails, QC rejects the lot and proposes rework."""
    from quality.models import Inspection

    page, lot = day.page("qc"), day.made["cmo_lot"]
    inspection = Inspection.objects.get(lot=lot)
    goto(page, f"/quality/inspections/{inspection.pk}/")
    for item in inspection.specification.items.order_by("sequence"):
        form = f"[data-testid=enter-{item.pk}]"
        failed = item.name == "Appearance"
        page.check(f"{form} input[name=passed][value='{0 if failed else 1}']")
        if item.kind == "text":
            page.fill(f"{form} input[name=text]", "Lumps over 2 mm, damp" if failed else "Conforms")
        submit(page, f"{form} button[type=submit]")
    sign(page, "[data-testid=form-complete]", "qc")
    submit(page, "[data-testid=form-complete] button[type=submit]")
    assert page.inner_text("[data-testid=inspection-status]") == "Failed"
    sign(page, "[data-testid=form-reject-lot]", "qc", reason="Lumps over 2 mm; granules damp")
    submit(page, "[data-testid=form-reject-lot] button[type=submit]")
    lot.refresh_from_db()
    assert lot.status == "rejected"
    submit(page, f"a[href='/quality/nonconforming/lot/{lot.pk}/']")
    page.select_option("select[name=kind]", "rework")
    page.fill("textarea[name=instruction]", "Re-sieve through 1.0 mm under the rework record; QC tests again.")
    submit(page, "form.card button[type=submit]")
    page.wait_for_selector("[data-testid=disposition-status]")
    day.made["disposition_url"] = page.url
    day.check("qc")


def qa_approves_the_rework(day: Day) -> None:
    page = day.page("qa")
    goto(page, day.made["disposition_url"])
    sign(page, "[data-testid=disposition-approve]", "qa", reason="Rework validated")
    submit(page, "[data-testid=disposition-approve] button[type=submit]")
    assert page.inner_text("[data-testid=disposition-status]") == "Approved"
    day.check("qa")


def supervisor_starts_the_rework_batch(day: Day) -> None:
    """From the rejected lot to its disposition; operators, signature; then line clearance, ready, start."""
    from batches.models import Batch

    page, lot = day.page("supervisor"), day.made["cmo_lot"]
    goto(page, f"/materials/lots/{lot.code}/")
    submit(page, "[data-testid=lot-disposition] a")
    page.wait_for_selector("[data-testid=rework-start-form]")
    screens(page, "supervisor", "rework-start")
    for name in ("Qiang Li", "Jing Chen"):
        page.locator("[data-testid=rework-start-form]").get_by_label(name, exact=True).check()
    sign(page, "[data-testid=rework-start-form]", "supervisor", reason="Rework per the approved disposition")
    submit(page, "[data-testid=rework-start-submit]")
    page.wait_for_selector("[data-testid=rework-banner]")
    batch = Batch.objects.get(rework_lot=lot)
    page.check("[data-testid=clearance-form] input[name=confirmed]")
    sign(page, "[data-testid=clearance-form]", "supervisor")
    submit(page, "[data-testid=sign-clearance]")
    sign(page, "form:has([data-testid=mark-ready])", "supervisor")
    submit(page, "[data-testid=mark-ready]")
    submit(page, "[data-testid=start-batch]")
    page.wait_for_selector("[data-testid=steps]")
    day.made["rework_batch"] = batch
    day.check("supervisor")


def operator_reworks_the_granules(day: Day) -> None:
    """The rejected lot goes into its rework batch (and only there); the step; completion (signed)."""
    from batches import services as s
    from materials.models import Lot

    page, batch, lot = day.page("operator"), day.made["rework_batch"], day.made["cmo_lot"]
    goto(page, f"/materials/issue/{batch.number}/")
    page.click("[data-testid=line]:has-text('IM-GRN-500')")
    page.wait_for_selector("[name=lot_code]:focus")
    page.keyboard.type(lot.code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.fill("#id_quantity", "180")
    submit(page, "[data-testid=issue-form] button[type=submit]")
    page.wait_for_selector(".msg-success")
    step = batch.steps.get(number=10)
    goto(page, f"/batches/{batch.number}/step/10/")
    page.fill("[data-testid=scan]", s.step_code(step))
    swap(page, "[data-testid=scan-form] button")
    entry = step.entries.get()
    swap(page, f"[data-testid=answer-{entry.pk}-yes]")  # yes/no: a button; its block comes back
    sign(page, "[data-testid=sign-form]", "operator")
    swap(page, "[data-testid=sign-step]")
    page.wait_for_selector("text=Step signed.")
    goto(page, f"/batches/{batch.number}/")
    page.fill("#id_output", "175")
    sign(page, "[data-testid=complete-form]", "operator")
    submit(page, "[data-testid=complete-batch]")
    page.wait_for_selector("text=Batch completed.")
    screens(page, "operator", "rework-batch")
    reworked = Lot.objects.get(produced_by=batch)
    goto(page, f"/materials/lots/{reworked.code}/")
    assert page.inner_text("[data-testid=reworked-from]") == lot.code
    assert reworked.status == "quarantine" and reworked.inspections.filter(status="due").exists()
    screens(page, "operator", "reworked-lot")
    day.check("operator")
