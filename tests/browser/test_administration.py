"""Administration in headless Chromium: QA approves a configuration change (first signing of the
session asks for the user ID), an administrator changes roles and sees the alert notice; no CSP
violations (console errors) on any page."""

import pytest
from django.core.management import call_command

from tests.browser_fixtures import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings):
    settings.MES_SIGNATURE_FULL_FIRST = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.req("CFG-1", "SEC-3")
def test_qa_approves_a_configuration_change_with_user_id_and_password(new_page, demo, password):
    from administration.models import ChangeStatus, ConfigChange

    change = ConfigChange.objects.get(status=ChangeStatus.PROPOSED)
    page, problems = new_page()
    login(page, "qa", password)
    screenshot(page, "admin-home-qa")
    page.goto("/administration/config/")
    screenshot(page, "admin-config-list")
    page.goto(f"/administration/changes/{change.pk}/")
    assert page.locator("#id_sig_username").is_visible()
    screenshot(page, "admin-change-detail-first-signing")
    page.fill("#id_sig_username", "qa")
    page.fill("#id_sig_password", password)
    page.fill("#id_sig_reason", "Agreed: shared tablets on the line")
    page.click("[data-testid=action-approve]")
    page.wait_for_selector("[data-testid=status]")
    assert "effective" in page.locator("[data-testid=status]").inner_text().lower()
    screenshot(page, "admin-change-approved")
    page.goto("/administration/access-review/")
    assert page.locator("#id_sig_username").count() == 0  # later signings: the password only
    screenshot(page, "admin-access-review")
    page.goto("/administration/config-review/")
    screenshot(page, "admin-config-review")
    problems.check()


@pytest.mark.req("SEC-2", "SEC-3")
def test_administrator_pages(new_page, demo, password):
    page, problems = new_page()
    login(page, "admin", password)
    assert page.locator("[data-testid=admin-alert]").is_visible()  # the seeded alert
    screenshot(page, "admin-home-admin")
    page.goto("/administration/users/")
    screenshot(page, "admin-users")
    page.click("text=operator2")
    page.wait_for_selector("[data-testid=roles-form]")
    page.check("input[name=roles][value=supervisor]")
    page.fill("#id_sig_username", "admin")
    page.fill("#id_sig_password", password)
    page.fill("#id_sig_reason", "Acting supervisor for shift B")
    page.click("text=Change roles (signed)")
    page.wait_for_selector(".msg")
    screenshot(page, "admin-user-detail-after")
    assert page.locator(".msg-success").count() == 1, page.locator(".msg").all_inner_texts()
    # a GMP role waits for a second person (QA or another administrator): operator2 is not supervisor yet
    assert "waiting for approval" in page.locator(".msg-success").inner_text()
    assert "supervisor" in page.locator("[data-testid=pending-roles]").inner_text()
    screenshot(page, "admin-user-detail")
    page.goto("/administration/status/")
    screenshot(page, "admin-status")
    page.goto("/administration/alerts/")
    page.fill("textarea[name=comment]", "Operator mistyped; confirmed by phone.")
    page.click('button:has-text("Acknowledge")')
    page.wait_for_selector(".msg-success")
    assert page.locator("[data-testid=admin-alert]").count() == 0
    screenshot(page, "admin-alerts")
    page.click("[data-testid=lang-zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    page.goto("/administration/config/")
    screenshot(page, "admin-config-list-zh")
    problems.check()
