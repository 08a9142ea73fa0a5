"""In the browser: the supervisor opens the plant dashboard and a report, and downloads PDFs."""

from __future__ import annotations

import pytest

from reports.models import Report
from tests.browser_fixtures import login, screenshot
from tests.reports.conftest import DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("REP-2", "REP-3")
def test_dashboard_report_and_pdf_download(new_page, users, password, batches):
    page, problems = new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(page, "supervisor", password)
    page.goto("/reports/")
    page.get_by_test_id("dashboard-kpis").wait_for()
    assert page.locator("svg.chart").count() == 2
    screenshot(page, "reports-dashboard")

    page.goto(f"/reports/view/production/?start={DAY.isoformat()}&end={DAY.isoformat()}")
    assert page.get_by_test_id("table-output_product").inner_text().count("FG-A") == 1
    screenshot(page, "reports-production")
    with page.expect_download() as info:
        page.get_by_test_id("export-pdf").click()
    path = info.value.path()
    assert open(path, "rb").read(4) == b"%PDF"

    page.get_by_test_id("generate").click()
    page.get_by_test_id("report-status").wait_for()
    report = Report.objects.get(kind="production")  # A-1 closed: its batch report exists too
    page.fill("#id_sig_password", password)
    page.get_by_test_id("review-form").locator("button[type=submit]").click()
    page.get_by_test_id("distribute-form").wait_for()
    assert page.get_by_test_id("report-status").inner_text() == "Reviewed"
    screenshot(page, "reports-reviewed")
    with page.expect_download() as info:
        page.get_by_test_id("download-pdf").click()
    assert open(info.value.path(), "rb").read() == bytes(Report.objects.get(pk=report.pk).file.content)
    page.goto("/reports/subscriptions/")
    page.select_option("#id_kind", "quality")
    page.select_option("#id_frequency", "weekly")
    page.fill("#id_email", "wei.zhang@example.com")
    page.get_by_test_id("subscribe-form").locator("button[type=submit]").click()
    page.get_by_test_id("subscriptions").get_by_text("Quality report").wait_for()
    screenshot(page, "reports-subscriptions")
    problems.check()
