"""An operator taken off a batch while on its step screen cannot act on it from their next request:
the object grant (django-guardian) is prefetched per request, never carried into the next one."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_operator_taken_off_the_batch_mid_session_cannot_start_its_step(running, shared_cache, users, client):
    from guardian.shortcuts import remove_perm

    from batches.models import StepExecution

    batch = running["batch"]
    client.force_login(users["operator"])
    url = reverse("batches:step", kwargs={"number": batch.number, "step": 10})
    assert b'data-testid="scan-form"' in client.get(url).content
    assert b'data-testid="scan-form"' in client.get(url).content  # cached answers, same session
    remove_perm("batches.execute_batch", users["operator"], batch)
    page = client.get(url)
    assert page.status_code == 200 and b'data-testid="scan-form"' not in page.content
    r = client.post(url, {"op": "start", "scan": "GRAN-01", "how": "scanned"}, follow=True)
    assert b"msg-error" in r.content
    assert StepExecution.objects.get(batch=batch, number=10).status == "pending"
