"""A user signs in in headless Chromium, switches to Chinese and sees the Chinese page."""

import pytest

from tests.browser_fixtures import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("SEC-1")
def test_login_switch_language_and_see_chinese(new_page, users, password):
    page, problems = new_page()
    login(page, "planner", password)
    assert page.locator("h1").inner_text().startswith("Good day")
    screenshot(page, "home-en-planner")
    page.click("[data-testid=lang-zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert "您好" in page.locator("h1").inner_text()
    assert "退出登录" in page.content()
    screenshot(page, "home-zh-planner")
    page.click("text=退出登录")
    page.wait_for_url("**/accounts/login/**")
    assert "登录" in page.locator("h1").inner_text()
    problems.check()


def test_wrong_password_shows_a_clear_message(new_page, users):
    page, problems = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", "qc")
    page.fill("#id_password", "definitely-wrong")
    page.click(".login-card button[type=submit]")
    assert "not correct" in page.locator(".msg-error").inner_text()
    screenshot(page, "login-error-en")
