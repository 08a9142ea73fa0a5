"""What an operator trips over on the step screen: yes/no checks in any language, a double-clicked
signature, and repeated submits that must read as "already done", not as someone else's conflict."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import Signature
from batches import services as s
from batches.models import Entry, StepStatus
from batches.services.execution import stored_value
from mes.workflow import AlreadyDone
from tests.batches.conftest import PW, fresh, issue_all


def _step_url(batch, number=10):
    return reverse("batches:step", kwargs={"number": batch.number, "step": number})


@pytest.mark.req("BAT-8")
def test_yes_no_check_is_answered_with_buttons_and_stored_as_a_code_in_chinese(running, client, users):
    batch = running["batch"]
    client.force_login(users["operator"])
    client.cookies["django_language"] = "zh-hans"
    url = _step_url(batch)
    client.post(url, {"op": "start", "scan": "GRAN-01", "how": "scanned"})
    check = Entry.objects.get(batch=batch, name="End-point reached?")
    page = client.get(url).content.decode()
    # Buttons in the reader's language, whose value does not depend on it; no free-text box for it.
    assert f'data-testid="answer-{check.pk}-yes"' in page and f'data-testid="answer-{check.pk}-no"' in page
    assert f'data-testid="value-{check.pk}"' not in page
    assert ">是</button>" in page and ">否</button>" in page
    r = client.post(url, {"op": "record", "entry": check.pk, "version": 0, "value": "yes"}, follow=True)
    check.refresh_from_db()
    assert check.value == "yes" and check.in_range is True and not check.deviation_ref
    assert 'data-testid="value">是' in r.content.decode()  # shown in Chinese, stored as the code
    client.cookies["django_language"] = "en"
    assert 'data-testid="value">Yes' in client.get(url).content.decode()


@pytest.mark.req("BAT-8", "BAT-9")
def test_typed_chinese_answers_map_to_the_same_codes_and_a_wrong_answer_needs_a_comment(running, users):
    batch = running["batch"]
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    check = step.entries.get(name="End-point reached?")
    with pytest.raises(ValidationError, match="Answer End-point reached"):
        s.entry_record(user=op, entry=check, value="maybe", version=0)
    with pytest.raises(ValidationError, match="answered “No”, expected “Yes”"):
        s.entry_record(user=op, entry=check, value="否", version=0)
    check = s.entry_record(user=op, entry=check, value="否", version=0, comment="granules still wet")
    assert check.value == "no" and check.in_range is False and check.deviation_ref
    assert stored_value(Entry(kind="check", expected_answer="Yes"), " 是 ") == "yes"
    assert stored_value(Entry(kind="check", expected_answer="合格"), "pass") == "pass"


@pytest.mark.req("BAT-10")
def test_double_clicked_sign_says_already_signed_not_someone_else(running, client, users):
    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    client.force_login(users["operator"])
    url = _step_url(batch)
    client.post(url, {"op": "start", "scan": "GRAN-01", "how": "scanned"})
    for entry in Entry.objects.filter(batch=batch, step__number=10):
        client.post(url, {"op": "record", "entry": entry.pk, "version": 0, "value": entry.expected_answer or "150"})
    first = client.post(url, {"op": "sign", "password": PW}, follow=True).content.decode()
    second = client.post(url, {"op": "sign", "password": PW}, follow=True).content.decode()
    assert "Step signed." in first
    assert "already signed by you" in second and "someone else" not in second
    assert 'class="msg msg-info"' in second and "msg-error" not in second
    step = batch.steps.get(number=10)
    assert step.status == StepStatus.DONE
    assert Signature.objects.filter(object_type="batches.stepexecution", object_id=str(step.pk)).count() == 1
    # The same person again through the service (a submit that waited on the row lock): already done.
    with pytest.raises(AlreadyDone):
        s.step_sign(user=fresh(users["operator"]), step=step, password=PW)
    # Someone else is still told it is not in progress (no "already done" for another person).
    with pytest.raises(ValidationError, match="not in progress") as other:
        s.step_sign(user=fresh(users["operator2"]), step=step, password=PW)
    assert not isinstance(other.value, AlreadyDone)
    s.step_verify(user=fresh(users["operator"]), step=step, verifier_username="operator2", password=PW)
    with pytest.raises(AlreadyDone, match="already verified by you"):
        s.step_verify(user=fresh(users["operator"]), step=step, verifier_username="operator2", password=PW)


@pytest.mark.req("BAT-3")
def test_a_repeated_transition_by_the_same_person_is_already_done(setup, users):
    batch = setup["batch"]
    supervisor = fresh(users["supervisor"])
    s.batch_line_clearance_sign(user=supervisor, batch=batch, password=PW, confirmed=True)
    s.batch_mark_ready(user=supervisor, batch=batch, password=PW)
    signed = Signature.objects.filter(object_type="batches.batch", object_id=str(batch.pk)).count()
    with pytest.raises(AlreadyDone, match="already done"):
        s.batch_mark_ready(user=supervisor, batch=batch, password=PW)
    batch.refresh_from_db()
    assert batch.status == "ready"
    assert Signature.objects.filter(object_type="batches.batch", object_id=str(batch.pk)).count() == signed
    # Another supervisor is told the state, not "already done" (it was not their action).
    with pytest.raises(ValidationError, match="not possible") as other:
        s.batch_mark_ready(user=fresh(users["qa"]), batch=batch, password=PW)
    assert not isinstance(other.value, AlreadyDone)
