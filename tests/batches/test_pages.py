"""The batch pages as users use them (thin views over the services), with bounded query counts."""

import pytest
from django.urls import reverse

from batches.models import Entry, StepExecution
from tests.batches.conftest import PW


@pytest.mark.req("BAT-6", "BAT-7")
def test_operator_step_page_scan_record_sign(running, client, users, django_assert_max_num_queries):
    batch = running["batch"]
    client.force_login(users["operator"])
    url = reverse("batches:step", kwargs={"number": batch.number, "step": 10})
    page = client.get(url)
    assert page.status_code == 200 and b"Granulate." in page.content
    client.post(url, {"op": "start", "scan": "GRAN-01", "how": "scanned"})
    entry = Entry.objects.get(batch=batch, name="Impeller speed")
    r = client.post(url, {"op": "record", "entry": entry.pk, "version": 0, "value": "175"}, follow=True)
    assert b"outside the limits" in r.content
    client.post(url, {"op": "record", "entry": entry.pk, "version": 0, "value": "175", "comment": "surge"})
    entry.refresh_from_db()
    assert entry.value == "175" and entry.deviation_ref
    with django_assert_max_num_queries(40):
        assert client.get(url).status_code == 200


@pytest.mark.req("QC-6")
def test_preparation_page_shows_interlocks_and_signs_clearance(setup, client, users):
    batch = setup["batch"]
    client.force_login(users["supervisor"])
    url = reverse("batches:detail", kwargs={"number": batch.number})
    page = client.get(url)
    assert b"GRAN-01" in page.content and b"Line clearance is not signed" in page.content
    client.post(url, {"op": "clearance", "confirmed": "1", "password": PW, "signature_username": "supervisor"})
    client.post(url, {"op": "ready", "password": PW})
    client.post(url, {"op": "start"})
    batch.refresh_from_db()
    assert batch.status == "in_progress"


@pytest.mark.req("QC-6")
def test_list_and_review_pages(running, client, users, django_assert_max_num_queries):
    client.force_login(users["qc"])
    with django_assert_max_num_queries(15):
        assert client.get(reverse("batches:list")).status_code == 200
    page = client.get(reverse("batches:review", kwargs={"number": running["batch"].number}))
    assert page.status_code == 200


def test_batch_list_counts_each_listed_batchs_steps(running, client, users, django_assert_max_num_queries):
    """The "steps done" column is counted for the page's batches only, in one grouped query (neither the page
    count nor the page's query joins every batch's steps)."""
    batch = running["batch"]
    steps = StepExecution.objects.filter(batch=batch)
    total, done = steps.count(), steps.filter(status__in=["done", "verified"]).count()
    client.force_login(users["qc"])
    client.get(reverse("batches:list"))
    with django_assert_max_num_queries(8) as captured:
        page = client.get(reverse("batches:list"))
    assert f"{done} / {total}".encode() in page.content and total > 0
    step_queries = [q["sql"] for q in captured.captured_queries if "batches_stepexecution" in q["sql"]]
    assert len(step_queries) == 1 and "GROUP BY" in step_queries[0]
