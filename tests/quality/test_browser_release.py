"""End to end in Chromium: QC enters a failing result, a deviation appears, QA closes it with a CAPA,
QC releases, the supervisor releases (QC-1, QC-3, QC-4, QC-10, QC-11)."""

import pytest

from tests.browser_fixtures import login, screenshot
from tests.quality.conftest import make_spec
from tests.quality.lots import location, make_batch, output, set_batch_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign(page, form, password, reason=""):
    page.fill(f"{form} input[name=password]", password)
    if reason:
        page.fill(f"{form} textarea[name=reason]", reason)
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.req("QC-1", "QC-3", "QC-4", "QC-10", "QC-11")
def test_oos_deviation_capa_and_two_step_release(new_page, users, password, product):
    from materials.models import Lot
    from quality.models import Deviation, Inspection

    spec = make_spec(users, password, product, "finished")
    batch = make_batch("B-E2E-01", product)
    output(users, batch, location())
    set_batch_status(batch, "reviewed")
    inspection = Inspection.objects.get(batch=batch)
    assay, ident, appearance = spec.active_items()

    # 1. QC: the failing result opens a deviation.
    page, problems = new_page()
    login(page, "qc", password)
    page.goto("/quality/inspections/")
    page.click(f"text={inspection.number}")
    page.fill(f"[data-testid=enter-{assay.pk}] input[name=value]", "93.5")
    page.click(f"[data-testid=enter-{assay.pk}] button[type=submit]")
    page.wait_for_selector("[data-testid=oos-banner]")
    assert "OUT OF SPEC" in page.locator(f"[data-testid=row-{assay.pk}]").inner_text()
    screenshot(page, "quality-e2e-1-oos-result")
    deviation = Deviation.objects.get(source="oos")
    assert deviation.classification == "major" and deviation.status == "open"

    # The laboratory investigation finds a dilution error: the value is corrected, the old one kept.
    page.click(f"[data-testid=row-{assay.pk}] summary")
    page.fill(f"[data-testid=row-{assay.pk}] input[name=value]", "99.8")
    page.fill(f"[data-testid=row-{assay.pk}] input[name=reason]", "Dilution error confirmed; re-test on same solution")
    page.click(f"[data-testid=row-{assay.pk}] button[type=submit]")
    page.wait_for_selector("[data-testid=old-value]")
    assert "93.5" in page.locator("[data-testid=old-value]").inner_text()
    for item in (ident, appearance):
        page.check(f"[data-testid=enter-{item.pk}] input[name=passed][value='1']")
        page.click(f"[data-testid=enter-{item.pk}] button[type=submit]")
        page.wait_for_load_state()
    sign(page, "[data-testid=form-complete]", password)
    assert page.locator("[data-testid=inspection-status]").inner_text() == "Passed"
    screenshot(page, "quality-e2e-2-inspection-passed")

    # The open deviation still blocks the release.
    page.goto(f"/quality/release/{batch.pk}/")
    assert page.locator("[data-testid=cond-deviations]").get_attribute("data-met") == "no"
    assert page.locator("[data-testid=form-qc-release]").count() == 0
    screenshot(page, "quality-e2e-3-release-blocked")

    # QC investigates and records the root cause.
    page.goto(f"/quality/deviations/{deviation.pk}/")
    sign(page, "[data-testid=form-investigate]", password)
    page.fill("[data-testid=form-conclude] textarea[name=root_cause]", "Analyst used the wrong volumetric flask.")
    page.fill("[data-testid=form-conclude] textarea[name=impact_assessment]", "None: product complies on re-test.")
    sign(page, "[data-testid=form-conclude]", password)
    assert page.locator("[data-testid=dev-status]").inner_text() == "CAPA pending"
    assert page.locator("[data-testid=form-close]").count() == 0  # QC cannot close a major deviation
    problems.check()

    # 2. QA adds a CAPA and closes the deviation.
    page, problems = new_page()
    login(page, "qa", password)
    page.goto(f"/quality/deviations/{deviation.pk}/")
    page.select_option("[data-testid=capa-form] select[name=kind]", "preventive")
    page.fill("[data-testid=capa-form] textarea[name=action]", "Colour-coded flasks per method; retrain analysts.")
    page.select_option("[data-testid=capa-form] select[name=owner]", label="Yang Liu")
    page.click("[data-testid=capa-add]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=dev-capas] tbody tr").count() == 1
    page.fill("[data-testid=form-close] textarea[name=closure_summary]", "Lab error; CAPA raised for prevention.")
    sign(page, "[data-testid=form-close]", password)
    assert page.locator("[data-testid=dev-status]").inner_text() == "Closed"
    screenshot(page, "quality-e2e-4-deviation-closed-by-qa")
    problems.check()

    # 3. QC releases.
    page, problems = new_page()
    login(page, "qc", password)
    page.goto("/quality/release/")
    page.click("text=B-E2E-01")
    assert page.locator("[data-testid=conditions] li.unmet").count() == 0
    screenshot(page, "quality-e2e-5-cockpit-all-met")
    sign(page, "[data-testid=form-qc-release]", password)
    assert page.locator("[data-testid=form-production-release]").count() == 0  # not by the same person
    assert Lot.objects.get(produced_by=batch).status == "quarantine"
    problems.check()

    # 4. The supervisor gives the production release; the lot is released.
    page, problems = new_page()
    login(page, "supervisor", password)
    page.goto(f"/quality/release/{batch.pk}/")
    sign(page, "[data-testid=form-production-release]", password)
    assert page.locator("[data-testid=lot-status]").inner_text() == "Released"
    screenshot(page, "quality-e2e-6-released")
    assert Lot.objects.get(produced_by=batch).status == "released"
    problems.check()
