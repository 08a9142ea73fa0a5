"""Scan to start, sign, verify and correct, sent from the step screen (htmx), are answered with the screen
as it then stands: one request instead of a POST, its redirect and the whole page again. The outcome is
shown once, on that answer; the page without JavaScript still posts and is redirected; the rules are the
services' either way."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from audit.models import AuditEvent, Signature
from batches import services as s
from batches.models import Entry, StepExecution
from tests.batches.conftest import PW, fresh

HX = {"HTTP_HX_REQUEST": "true"}
EXCEPTION = "Materials weighed on the paper record"


@pytest.fixture
def screen(running):
    batch = running["batch"]
    return {"batch": batch, "url": reverse("batches:step", kwargs={"number": batch.number, "step": 10})}


def _step(screen) -> StepExecution:
    return StepExecution.objects.get(batch=screen["batch"], number=10)


def _signatures(step, **filters):
    return Signature.objects.filter(object_type="batches.stepexecution", object_id=str(step.pk), **filters)


def _main(response) -> str:
    """The answer's main content: what htmx puts in place of the page's."""
    html = response.content.decode()
    assert response.status_code == 200 and html.count('<main class="content">') == 1
    return html[html.index('<main class="content">') : html.index("</main>")]


def _record_all(screen, users) -> None:
    op = fresh(users["operator"])
    for entry in Entry.objects.filter(step=_step(screen)):
        value = entry.expected_answer or str(entry.target)
        s.entry_record(user=op, entry=entry, value=value, version=entry.version)


def test_a_scan_is_answered_with_the_started_screen(screen, client_for):
    operator = client_for("operator")
    r = operator.post(screen["url"], {"op": "start", "scan": "GRAN-01", "how": "scanned"}, **HX)
    main = _main(r)
    assert _step(screen).status == "active" and _step(screen).started_by.username == "operator"
    assert "Step started." in main and 'data-testid="scan-form"' not in main
    assert main.count('class="entry-form"') == 2  # the two values to record, ready for the scanner or keyboard
    assert AuditEvent.objects.filter(object_type="batches.stepexecution", username="operator").exists()
    assert not r.cookies.get("messages") or not r.cookies["messages"].value  # nothing kept for a later page
    assert "Step started." not in operator.get(screen["url"]).content.decode()  # shown once, on the answer


def test_a_wrong_scan_is_refused_on_the_screen_with_its_reason(screen, client_for):
    r = client_for("operator").post(screen["url"], {"op": "start", "scan": "FBD-01", "how": "scanned"}, **HX)
    main = _main(r)
    assert "msg-error" in main and 'data-testid="scan-form"' in main and 'class="entry-form"' not in main
    assert _step(screen).status == "pending"


def test_sign_and_second_person_verify_are_answered_with_the_screen(screen, client_for, users):
    operator = client_for("operator")
    operator.post(screen["url"], {"op": "start", "scan": "GRAN-01", "how": "scanned"}, **HX)
    _record_all(screen, users)
    sign = {"op": "sign", "signature_username": "operator", "password": "wrong", "reason": ""}
    main = _main(operator.post(screen["url"], {**sign, "material_exception_reason": EXCEPTION}, **HX))
    assert "msg-error" in main and 'data-testid="sign-form"' in main and _step(screen).status == "active"
    sign["password"] = PW
    main = _main(operator.post(screen["url"], {**sign, "material_exception_reason": EXCEPTION}, **HX))
    step = _step(screen)
    assert step.status == "done" and step.material_exception == EXCEPTION
    assert "Step signed." in main and 'data-testid="sign-form"' not in main and 'data-testid="verify-form"' in main
    assert _signatures(step, username="operator").count() == 1
    verify = {"op": "verify", "verifier": "operator2", "password": PW}
    main = _main(operator.post(screen["url"], verify, **HX))  # the second person, on the performer's tablet
    assert _step(screen).status == "verified" and "Step verified." in main and 'data-testid="verify-form"' not in main
    assert _signatures(step, username="operator2").count() == 1
    assert main.count('data-testid="signature"') == 2  # both signatures listed on the answer


def test_a_second_submit_of_the_same_sign_says_it_is_done(screen, client_for, users):
    """A repeat that the browser could not drop (htmx drops one while the first is on its way)."""
    operator = client_for("operator")
    operator.post(screen["url"], {"op": "start", "scan": "GRAN-01", "how": "scanned"}, **HX)
    _record_all(screen, users)
    sign = {"op": "sign", "signature_username": "operator", "password": PW, "material_exception_reason": EXCEPTION}
    operator.post(screen["url"], sign, **HX)
    main = _main(operator.post(screen["url"], sign, **HX))
    assert "msg-error" not in main and 'class="msg msg-info"' in main  # said to be done already, not refused
    assert "Step signed." not in main and _signatures(_step(screen)).count() == 1


def test_a_correction_is_answered_with_the_screen(screen, client_for, users):
    operator = client_for("operator")
    operator.post(screen["url"], {"op": "start", "scan": "GRAN-01", "how": "scanned"}, **HX)
    _record_all(screen, users)
    speed = Entry.objects.get(step=_step(screen), name="Impeller speed")
    data = {"op": "correct", "entry": speed.pk, "version": speed.version, "value": "152", "reason": "Typing error"}
    main = _main(operator.post(screen["url"], data, **HX))
    assert "Value corrected." in main and Entry.objects.get(pk=speed.pk).value == "152"
    assert f"<s>{speed.value}</s>" in main  # the old value stays legible beside the correction


def test_the_screen_sends_its_actions_with_htmx(screen, client_for):
    page = client_for("operator").get(screen["url"]).content.decode()
    form = page[page.index('data-testid="scan-form"') - 400 : page.index('data-testid="scan-form"')]
    form = form[form.rindex("<form") :]
    assert f'hx-post="{screen["url"]}"' in form and 'hx-select="main.content"' in form
    assert 'hx-target="main.content"' in form and 'hx-sync="this:drop"' in form and "data-unsent=" in form


def test_without_javascript_the_actions_still_post_and_redirect(screen, client_for):
    operator = client_for("operator")
    r = operator.post(screen["url"], {"op": "start", "scan": "GRAN-01", "how": "scanned"})
    assert r.status_code == 302 and r.url == screen["url"] and _step(screen).status == "active"
    assert "Step started." in operator.get(screen["url"]).content.decode()


def test_a_sign_sent_after_the_session_ended_takes_the_tablet_to_log_in(screen, client, users, settings, monkeypatch):
    settings.MES_IDLE_TIMEOUT_MINUTES = 15
    s.step_start(user=fresh(users["operator"]), step=_step(screen), scan="GRAN-01")
    _record_all(screen, users)
    client.post(reverse("login"), {"username": "operator", "password": PW})
    client.get(screen["url"])
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 16 * 60)
    sign = {"op": "sign", "signature_username": "operator", "password": PW, "material_exception_reason": EXCEPTION}
    r = client.post(screen["url"], sign, **HX)
    assert r.status_code == 204 and r["HX-Redirect"].startswith(reverse("login"))
    assert _step(screen).status == "active" and not _signatures(_step(screen)).exists()
