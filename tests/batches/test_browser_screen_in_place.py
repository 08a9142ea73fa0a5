"""On the tablet, in English and in Chinese: a whole step (scan, values, sign, second-person verify) without
loading the page again. Each action is answered with the screen as it then stands and put in place: the
first value to record has the focus after the scan, a refused signature says why on the screen, a second
tap on the sign button signs once, a request that never reached the server says so and keeps what was
typed, and an answer that is not the screen (a server error) loads the screen again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audit.models import Signature
from batches.models import Entry
from tests.batches.conftest import PW, issue_all
from tests.browser_fixtures import (
    answer_posts_with_a_server_error,
    answered_in_place,
    open_in_language,
    screenshot,
    swap,
)

pytestmark = [pytest.mark.browser]

UNSENT = {"en": "Not sent: the tablet could not reach the server", "zh-hans": "未发送"}
SIGNED = {"en": "Step signed.", "zh-hans": "工序已签名。"}


def _signatures(step) -> int:
    return Signature.objects.filter(object_type="batches.stepexecution", object_id=str(step.pk)).count()


def _fill_signature(page, password: str) -> None:
    box = page.locator("[data-testid=sign-form]")
    if box.locator("#id_sig_username").count():
        box.locator("#id_sig_username").fill("operator")
    box.locator("#id_sig_password").fill(password)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_whole_step_without_loading_the_page(transactional_db, running, users, new_page, language):
    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    step = batch.steps.get(number=10)
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    check = Entry.objects.get(batch=batch, kind="check")
    page, problems = new_page()
    url = f"/batches/{batch.number}/step/10/"
    open_in_language(page, "operator", PW, language, url)

    page.wait_for_selector("[name=scan]:focus")
    with answered_in_place(page):  # a keyboard-wedge scanner types the code, then Enter
        page.keyboard.type("GRAN-01\n")
    expect(page.locator(f"[data-testid=value-{speed.pk}]")).to_be_focused()  # the scanner types on at once
    step.refresh_from_db()
    assert step.status == "active" and step.started_by_id == users["operator"].pk
    page.keyboard.type("150\n")
    page.wait_for_selector(f"[data-testid=entry-{speed.pk}] [data-testid=value]")
    swap(page, f"[data-testid=answer-{check.pk}-yes]")

    _fill_signature(page, "not the password")
    swap(page, "[data-testid=sign-step]")
    expect(page.locator(".messages .msg-error")).to_have_count(1)  # refused on the screen, with its reason
    assert page.input_value("#id_sig_password") == "" and _signatures(step) == 0

    # The network drops: the form says the signature was not sent; nothing is signed.
    page.route(f"**{url}", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    _fill_signature(page, PW)
    page.click("[data-testid=sign-step]")
    page.wait_for_selector("[data-testid=sign-form] [data-unsent-message]")
    assert UNSENT[language] in page.inner_text("[data-testid=sign-form] [data-unsent-message]")
    assert _signatures(step) == 0
    page.unroute(f"**{url}")
    problems.clear()  # the failed request was this test's own doing

    with answered_in_place(page):
        page.dblclick("[data-testid=sign-step]")  # a second tap while the first is on its way is dropped
    page.wait_for_selector("[data-testid=verify-form]")
    expect(page.locator(".messages .msg-success")).to_have_text(SIGNED[language])
    assert page.locator(".msg-error").count() == 0 and _signatures(step) == 1
    page.fill("[data-testid=verifier]", "operator2")
    page.fill("[data-testid=verifier-password]", PW)
    swap(page, "[data-testid=verify-step]")
    page.wait_for_selector("[data-testid=step-status]")
    step.refresh_from_db()
    assert step.status == "verified" and _signatures(step) == 2
    expect(page.locator("[data-testid=signature]")).to_have_count(2)
    expect(page.locator(".sig-invalid")).to_have_count(0)  # the verification leaves the performer's valid
    assert page.evaluate("window.sameDocument === true")  # the whole step, no page loaded
    screenshot(page, f"batches-step-in-place-{language}")
    problems.check()


def test_a_server_error_answering_a_signature_shows_the_screen_again(transactional_db, running, users, new_page):
    batch = running["batch"]
    step = batch.steps.get(number=10)
    page, _problems = new_page()
    url = f"/batches/{batch.number}/step/10/"
    open_in_language(page, "operator", PW, "en", url)
    answer_posts_with_a_server_error(page, url)
    page.fill("[data-testid=scan]", "GRAN-01")
    with page.expect_navigation():
        page.press("[data-testid=scan]", "Enter")
    page.wait_for_selector("[data-testid=scan-form]")
    assert page.evaluate("window.sameDocument === undefined") and "Server Error" not in page.content()
    step.refresh_from_db()
    assert step.status == "pending"
