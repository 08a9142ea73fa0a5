"""On the tablet, in English and in Chinese: the step screen records each value without loading the page
again. Its block comes back as stored, the next value to record has the focus (a scanner or the keyboard
types on without a tap), a refused value keeps what was typed, a request that never reached the server
says so, and a session that ended meanwhile shows the log-in page, not a log-in form inside the block."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from batches.models import Entry
from batches.services import step_start
from tests.batches.conftest import PW, issue_all
from tests.browser_fixtures import answer_posts_with_a_server_error, login, open_in_language, screenshot, swap

pytestmark = [pytest.mark.browser]

UNSENT = {
    "en": "Not sent: the tablet could not reach the server",
    "zh-hans": "未发送",
}


def _wait_focus(page, testid: str) -> None:
    expect(page.locator(f"[data-testid={testid}]")).to_be_focused()  # polled without eval (the CSP forbids it)


@pytest.mark.req("BAT-7", "BAT-8")
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_values_are_recorded_in_place_with_the_keyboard(transactional_db, running, users, new_page, language):
    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    step_start(user=users["operator"], step=batch.steps.get(number=10).pk, scan="GRAN-01", how="scanned")
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    check = Entry.objects.get(batch=batch, kind="check")
    page, problems = new_page()
    url = f"/batches/{batch.number}/step/10/"
    open_in_language(page, "operator", PW, language, url)

    swap(page, f"[data-testid=answer-{check.pk}-yes]")
    assert page.inner_text(f"[data-testid=entry-{check.pk}] [data-testid=value]").strip() == (
        "是" if language == "zh-hans" else "Yes"
    )
    check.refresh_from_db()
    assert check.value == "yes" and check.entered_by_id == users["operator"].pk  # the check, recorded in the step
    _wait_focus(page, f"value-{speed.pk}")  # the next value to record, ready for the keyboard

    # The network drops: the block says the value was not sent and keeps it; nothing is recorded.
    page.route(f"**{url}", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.keyboard.type("172")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-testid=entry-{speed.pk}] [data-unsent-message]")
    assert UNSENT[language] in page.inner_text(f"[data-testid=entry-{speed.pk}] [data-unsent-message]")
    assert page.input_value(f"[data-testid=value-{speed.pk}]") == "172"
    assert not Entry.objects.get(pk=speed.pk).recorded
    page.unroute(f"**{url}")
    problems.clear()  # the failed request was this test's own doing

    # Out of the limits without a comment: refused in the block, the value kept, the comment focused.
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.press(f"[data-testid=value-{speed.pk}]", "Enter")
    page.wait_for_selector(f"[data-testid=entry-{speed.pk}] [data-testid=entry-message].msg-error")
    _wait_focus(page, f"comment-{speed.pk}")
    assert page.input_value(f"[data-testid=value-{speed.pk}]") == "172"
    assert not Entry.objects.get(pk=speed.pk).recorded
    page.keyboard.type("Impeller surged for 20 s")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-testid=entry-{speed.pk}] [data-testid=value]")
    speed.refresh_from_db()
    assert speed.value == "172" and speed.in_range is False and speed.deviation_ref
    assert speed.comment == "Impeller surged for 20 s"
    block = page.inner_text(f"[data-testid=entry-{speed.pk}]")
    assert speed.deviation_ref in block and "172" in block
    expect(page.locator("[data-testid=entry-message].msg-success")).to_have_count(1)  # only the latest says so
    assert page.evaluate("window.sameDocument === true")  # three values, no page loaded
    page.wait_for_selector("[data-testid=sign-form]")
    screenshot(page, f"batches-values-in-place-{language}")
    problems.check()


def test_a_value_sent_after_signing_out_elsewhere_shows_the_log_in_page(transactional_db, running, users, new_page):
    batch = running["batch"]
    step_start(user=users["operator"], step=batch.steps.get(number=10).pk, scan="GRAN-01", how="scanned")
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    page, _problems = new_page()
    login(page, "operator", PW)
    page.goto(f"/batches/{batch.number}/step/10/")
    page.fill(f"[data-testid=value-{speed.pk}]", "150")
    page.context.clear_cookies()  # the session is gone (signed out on another tab, or ended)
    with page.expect_navigation():
        page.click(f"[data-testid=record-{speed.pk}]")
    page.wait_for_selector("#id_username")
    assert "/accounts/login/" in page.url and page.locator(".entry-block").count() == 0
    assert not Entry.objects.get(pk=speed.pk).recorded


def test_a_server_error_shows_the_step_screen_again(transactional_db, running, users, new_page):
    """An answer that is not a block (here a 500) is not put into the page: the screen is loaded again,
    as stored, and the value was not recorded."""
    batch = running["batch"]
    step_start(user=users["operator"], step=batch.steps.get(number=10).pk, scan="GRAN-01", how="scanned")
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    page, _problems = new_page()
    url = f"/batches/{batch.number}/step/10/"
    open_in_language(page, "operator", PW, "en", url)
    answer_posts_with_a_server_error(page, url)
    page.fill(f"[data-testid=value-{speed.pk}]", "150")
    with page.expect_navigation():
        page.click(f"[data-testid=record-{speed.pk}]")
    page.wait_for_selector(f"[data-testid=value-{speed.pk}]")
    assert page.evaluate("window.sameDocument === undefined") and "Server Error" not in page.content()
    assert not Entry.objects.get(pk=speed.pk).recorded
