"""A value recorded from the step screen (htmx) is answered with that value's block alone, read back as
stored, instead of a redirect and the whole page again. The page without JavaScript still posts and is
redirected; the rules are the service's either way."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from batches.models import Entry
from batches.services import step_start
from tests.batches.conftest import PW

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def active(running, users):
    """Step 10 of the running batch, scanned and started; its impeller speed (140-160 rpm) to record."""
    batch = running["batch"]
    step = batch.steps.get(number=10)
    step_start(user=users["operator"], step=step.pk, scan="GRAN-01", how="scanned")
    speed = Entry.objects.get(batch=batch, name="Impeller speed")
    return {"url": reverse("batches:step", kwargs={"number": batch.number, "step": 10}), "speed": speed}


def _record(client, active, value: str, comment: str = "", version: int = 0, headers=HX):
    data = {"op": "record", "entry": active["speed"].pk, "version": version, "value": value, "comment": comment}
    return client.post(active["url"], data, **headers)


@pytest.mark.req("BAT-7")
def test_a_recorded_value_comes_back_as_its_block_as_stored(active, client_for):
    operator = client_for("operator")
    r = _record(operator, active, "150")
    html = r.content.decode()
    speed = Entry.objects.get(pk=active["speed"].pk)
    assert r.status_code == 200 and speed.value == "150" and speed.entered_by.username == "operator"
    assert speed.in_range is True  # checked against 140-160 rpm as it was entered
    assert "<html" not in html and "<nav" not in html and "sign-form" not in html  # the block, not the page
    assert f'id="entry-{speed.pk}"' in html and html.count('class="entry-block"') == 1
    assert 'data-testid="value">150 rpm' in html and "in range" in html and speed.entered_by.get_full_name() in html
    assert "Value recorded." in html and 'name="op" value="record"' not in html  # recorded: no form to record it again
    assert "Correct this value" in html  # a value of a running batch can be corrected from its block
    assert AuditEvent.objects.filter(object_type="batches.entry", object_id=str(speed.pk), username="operator").exists()
    page = operator.get(active["url"]).content.decode()
    assert "Value recorded." not in page  # the outcome was shown in the block, not kept for the next page


@pytest.mark.req("BAT-7")
def test_a_refused_value_keeps_what_was_typed_and_says_why(active, client_for):
    operator = client_for("operator")
    r = _record(operator, active, "175")
    html = r.content.decode()
    assert r.status_code == 200 and "outside the limits" in html and "msg-error" in html
    assert 'name="value" value="175"' in html  # not typed again: completed with the comment the rule asks for
    assert not Entry.objects.get(pk=active["speed"].pk).recorded
    r = _record(operator, active, "175", comment="Impeller surged for 20 s")
    html = r.content.decode()
    speed = Entry.objects.get(pk=active["speed"].pk)
    assert speed.value == "175" and speed.deviation_ref and speed.deviation_ref in html and "out of range" in html
    assert "outside the limits" not in operator.get(active["url"]).content.decode()


def test_a_value_recorded_by_someone_else_meanwhile_is_shown_not_overwritten(active, client_for):
    """Two tablets on one step: the second sends the version it was shown; the block it gets back shows
    the value the first one stored, and the second value was not written."""
    _record(client_for("operator"), active, "150")
    r = _record(client_for("operator2"), active, "155", version=0)
    html = r.content.decode()
    assert "msg-error" in html and 'data-testid="value">150 rpm' in html and 'name="op" value="record"' not in html
    assert Entry.objects.get(pk=active["speed"].pk).value == "150"


def test_someone_who_may_not_execute_gets_the_block_without_a_form(active, client_for):
    r = _record(client_for("qc"), active, "150")
    html = r.content.decode()
    assert r.status_code == 200 and "msg-error" in html and 'name="op" value="record"' not in html
    assert not Entry.objects.get(pk=active["speed"].pk).recorded


def test_without_javascript_the_form_still_posts_and_redirects(active, client_for):
    operator = client_for("operator")
    r = _record(operator, active, "150", headers={})
    assert r.status_code == 302 and r.url == active["url"]
    page = operator.get(active["url"]).content.decode()
    assert "Value recorded." in page and Entry.objects.get(pk=active["speed"].pk).value == "150"


def test_a_value_sent_to_another_step_is_not_found(active, client_for, running):
    url = reverse("batches:step", kwargs={"number": running["batch"].number, "step": 20})
    r = client_for("operator").post(
        url, {"op": "record", "entry": active["speed"].pk, "version": 0, "value": "150"}, **HX
    )
    assert r.status_code == 404 and not Entry.objects.get(pk=active["speed"].pk).recorded


def test_the_step_screen_posts_its_values_with_htmx(active, client_for):
    page = client_for("operator").get(active["url"]).content.decode()
    form = page[page.index('<form method="post" class="entry-form"') :].split(">", 1)[0]
    assert f'hx-post="{active["url"]}"' in form and 'hx-target="closest .entry-block"' in form
    assert 'hx-swap="outerHTML"' in form and "data-unsent=" in form


@pytest.mark.req("SEC-1")
def test_a_value_sent_after_the_session_ended_takes_the_tablet_to_log_in(active, client, settings, monkeypatch):
    """The browser would follow the log-in redirect itself and htmx would put the log-in page into the
    value's block; the answer tells htmx to show the log-in page instead, and nothing is recorded."""
    settings.MES_IDLE_TIMEOUT_MINUTES = 15
    client.post(reverse("login"), {"username": "operator", "password": PW})
    client.get(active["url"])  # stamps the session's activity
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 16 * 60)
    r = _record(client, active, "150")
    assert r.status_code == 204 and "Location" not in r
    assert r["HX-Redirect"].startswith(reverse("login")) and "next=" in r["HX-Redirect"]
    monkeypatch.setattr(time, "time", real)
    r = _record(client, active, "150")  # signed out now: the log-in requirement answers alike
    assert r.status_code == 204 and r["HX-Redirect"].startswith(reverse("login"))
    assert not Entry.objects.get(pk=active["speed"].pk).recorded
    assert _record(client, active, "150", headers={}).status_code == 302  # a whole page is redirected as before


def test_a_live_board_of_an_ended_session_goes_to_log_in(client):
    r = client.get(reverse("equipment:board_tiles"), HTTP_HX_REQUEST="true", HTTP_X_MES_BACKGROUND="1")
    assert r.status_code == 204 and r["HX-Redirect"].startswith(reverse("login"))
