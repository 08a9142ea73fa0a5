"""What the operator's requests no longer repeat (issue 20), and that the answers stay the same."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.urls import reverse

from batches.models import Entry


def _session_row(client) -> str:
    return Session.objects.get(session_key=client.session.session_key).session_data


def test_a_recorded_value_is_confirmed_on_the_next_page_without_writing_the_session(running, client_for):
    batch = running["batch"]
    operator = client_for("operator")
    url = reverse("batches:step", kwargs={"number": batch.number, "step": 10})
    operator.get(url)
    assert operator.post(url, {"op": "start", "scan": "GRAN-01", "how": "scanned"}).status_code == 302
    operator.get(url)  # shows "Step started." and stamps the session's activity
    before = _session_row(operator)
    entry = Entry.objects.get(batch=batch, name="Impeller speed")
    response = operator.post(url, {"op": "record", "entry": entry.pk, "version": 0, "value": "150"})
    assert response.status_code == 302
    page = operator.get(url)
    assert [str(m) for m in page.context["messages"]] == ["Value recorded."]
    assert _session_row(operator) == before


def test_an_entry_of_another_step_or_batch_is_not_found(running, client_for):
    batch = running["batch"]
    operator = client_for("operator")
    step20 = reverse("batches:step", kwargs={"number": batch.number, "step": 20})
    other_batch = reverse("batches:step", kwargs={"number": "NO-SUCH-BATCH", "step": 10})
    entry = Entry.objects.filter(batch=batch, step__number=10).first()
    data = {"op": "record", "entry": entry.pk, "version": 0, "value": "150"}
    assert operator.post(step20, data).status_code == 404
    assert operator.post(other_batch, data).status_code == 404
    entry.refresh_from_db()
    assert entry.value == "" and entry.version == 0
