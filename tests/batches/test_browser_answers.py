"""On the tablet (1280x800), in English and in Chinese: a yes/no check is two big buttons, the answer
is shown in the reader's language, and a double-clicked "Sign" signs once without a red conflict."""

from __future__ import annotations

import pytest

from audit.models import Signature
from batches.models import Entry
from tests.batches.conftest import PW, issue_all
from tests.browser_fixtures import login, screenshot

pytestmark = [pytest.mark.browser]


@pytest.mark.req("BAT-8", "BAT-10")
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_yes_no_buttons_and_a_double_clicked_sign(transactional_db, running, users, new_page, language):
    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    page, problems = new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(page, "operator", PW)
    page.wait_for_load_state("load")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    page.goto(f"/batches/{batch.number}/step/10/")
    page.wait_for_selector("[name=scan]:focus")
    page.keyboard.type("GRAN-01\n")
    page.wait_for_selector("[data-testid=sign-step]")
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    check = Entry.objects.get(batch=batch, kind="check")
    yes = page.locator(f"[data-testid=answer-{check.pk}-yes]")
    assert yes.inner_text() == ("是" if language == "zh-hans" else "Yes")
    page.wait_for_load_state("load")  # the style sheet is in before the button is measured
    box = yes.bounding_box()
    assert box["height"] >= 56 and box["width"] >= 120  # a gloved finger hits it
    screenshot(page, f"batches-check-buttons-{language}")
    page.fill(f"[data-testid=value-{speed.pk}]", "150")
    page.click(f"[data-testid=record-{speed.pk}]")
    page.wait_for_selector(f"[data-testid=entry-{speed.pk}] [data-testid=value]")
    yes = page.locator(f"[data-testid=answer-{check.pk}-yes]")
    yes.click()
    page.wait_for_selector(f"[data-testid=entry-{check.pk}] [data-testid=value]")
    shown = page.inner_text(f"[data-testid=entry-{check.pk}] [data-testid=value]").strip()
    assert shown == ("是" if language == "zh-hans" else "Yes")
    check.refresh_from_db()
    assert check.value == "yes"
    box = page.locator("[data-testid=sign-form]")
    if box.locator("#id_sig_username").count():
        box.locator("#id_sig_username").fill("operator")
    box.locator("#id_sig_password").fill(PW)
    page.dblclick("[data-testid=sign-step]")
    page.wait_for_selector("[data-testid=verify-form]")
    assert page.locator(".msg-error").count() == 0
    step = batch.steps.get(number=10)
    assert Signature.objects.filter(object_type="batches.stepexecution", object_id=str(step.pk)).count() == 1
    screenshot(page, f"batches-signed-once-{language}")
    problems.check()
