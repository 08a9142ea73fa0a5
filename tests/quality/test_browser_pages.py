"""The quality pages of the seeded demo plant, as QA and QC see them (screenshots in test-artifacts/)."""

import pytest
from django.core.management import call_command

from tests.browser_fixtures import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_quality_pages_of_the_demo_plant(new_page, password):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from quality.models import CAPA, Deviation, Specification
    from quality.models.deviations import OPEN_DEVIATION_STATES

    page, problems = new_page()
    login(page, "qa", password)
    screenshot(page, "quality-home-qa")
    assert page.locator("[data-testid=workcard]").count() >= 3
    page.goto("/quality/deviations/")
    # the list opens on the open deviations the demo raised (OOS, equipment fault, rework's failed lot, ...)
    open_ones = Deviation.objects.filter(status__in=OPEN_DEVIATION_STATES).count()
    assert open_ones >= 4
    assert page.locator("[data-testid=deviation-table] tbody tr").count() == open_ones
    screenshot(page, "quality-deviation-list")
    major = Deviation.objects.get(status="capa_pending")
    page.goto("/quality/nonconforming/")
    from quality.models import Disposition

    waiting = Disposition.objects.get(status="proposed")  # the demo's other one (rework) is approved already
    page.click(f"[data-testid=dispositions] tbody a:has-text('{waiting.number}')")
    assert page.locator("[data-testid=disposition-approve]").count() == 1
    screenshot(page, "quality-disposition-qa")
    page.goto(f"/quality/deviations/{major.pk}/")
    assert page.locator("[data-testid=form-close]").count() == 1
    screenshot(page, "quality-deviation-detail-qa")
    page.goto("/quality/capa/")
    assert page.locator("[data-testid=overdue]").count() == 1
    screenshot(page, "quality-capa-board")
    page.goto(f"/quality/capa/{CAPA.objects.filter(status='effectiveness_check').first().pk}/")
    screenshot(page, "quality-capa-detail")
    page.goto(f"/quality/specifications/{Specification.objects.get(status='in_review').pk}/")
    screenshot(page, "quality-spec-in-review")
    problems.check()

    page, problems = new_page()
    login(page, "qc", password)
    page.goto("/quality/specifications/")
    screenshot(page, "quality-spec-list")
    page.goto(f"/quality/specifications/{Specification.objects.filter(material__code='FG-MET-500').first().pk}/")
    screenshot(page, "quality-spec-detail")
    page.goto(f"/quality/deviations/{major.pk}/")
    assert page.locator("[data-testid=form-close]").count() == 0  # QC cannot close a major deviation
    page.goto("/quality/inspections/")
    # Every released demo lot was tested against an effective specification (issue 16), so the quarantined
    # insulin lot has its incoming inspection due as well; the completed demo batch's finished-goods lot
    # waits for its finished-product inspection.
    assert page.locator("[data-testid=worklist] tbody tr").count() == 4
    assert page.locator("[data-testid=worklist] tbody tr", has_text="FG-MET-500").count() == 1
    screenshot(page, "quality-worklist")
    page.locator("[data-testid=worklist] tr", has_text="RM-EXC-030").locator("a").click()
    page.wait_for_selector("[data-testid=results]")
    assert page.locator("tr.oos").count() == 1
    screenshot(page, "quality-inspection-oos")
    page.goto("/quality/release/")
    page.click("text=MET500-DEMO-01")
    assert page.locator("[data-testid=form-qc-release]").count() == 1
    screenshot(page, "quality-release-cockpit")
    page.click("[data-testid=lang-zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert "放行条件" in page.content()
    screenshot(page, "quality-release-cockpit-zh")
    page.goto(f"/quality/deviations/{major.pk}/")
    screenshot(page, "quality-deviation-detail-zh")
    problems.check()

    page, problems = new_page()
    login(page, "supervisor", password)
    page.goto("/quality/release/")
    page.click("text=MET500-DEMO-02")
    assert page.locator("[data-testid=form-production-release]").count() == 1
    screenshot(page, "quality-production-release")
    problems.check()
