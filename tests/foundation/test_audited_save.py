"""An audited save in four round trips (issue 2): the row update locks the chain head, the history
version goes into the audit event's statement; everything the audit trail guarantees still holds."""

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from audit.context import audit_context
from audit.models import AuditEvent
from audit.services import audit_record
from audit.verification import verify_chain
from tests.sample.models import Sample

pytestmark = [pytest.mark.django_db, pytest.mark.req("AUD-1", "AUD-2")]


@pytest.fixture
def sample(users):
    with audit_context(actor=users["qa"], action="sample.create"):
        return Sample.objects.create(title="S-1", quantity=1)


def _events(sample):
    return list(AuditEvent.objects.filter(object_type="sample.sample", object_id=str(sample.pk)).order_by("seq"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the folded statements are PostgreSQL CTEs")
def test_an_audited_update_is_two_statements_with_history_and_event(sample, users):
    sample.title = "S-2"
    with CaptureQueriesContext(connection) as queries, audit_context(actor=users["qa"], reason="typo in title"):
        sample.save()  # inside the test's transaction: what is captured is what the save sends
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 2, sql
    assert "UPDATE" in sql[0] and "FOR UPDATE" in sql[0]  # the row, then the chain head, one statement
    assert "historicalsample" in sql[1] and "audit_auditevent" in sql[1]
    version = sample.history.first()
    assert (version.title, version.history_type, version.history_user, version.history_change_reason) == (
        "S-2", "~", users["qa"], "typo in title"
    )  # fmt: skip
    event = _events(sample)[-1]
    assert (event.old, event.new, event.reason, event.username) == (
        {"title": "S-1"}, {"title": "S-2"}, "typo in title", users["qa"].username
    )  # fmt: skip
    assert verify_chain().ok


def test_creation_keeps_its_history_version_and_event(sample, users):
    first = sample.history.get()
    assert (first.history_type, first.title, first.history_user) == ("+", "S-1", users["qa"])
    assert [e.action for e in _events(sample)] == ["sample.create"]
    assert verify_chain().ok


def test_a_save_that_changes_nothing_still_leaves_a_version_and_no_event(sample):
    before = len(_events(sample))
    sample.save()
    assert sample.history.count() == 2
    assert len(_events(sample)) == before


def test_save_without_historical_record_writes_the_event_only(sample, users):
    sample.title = "S-3"
    with audit_context(actor=users["qa"]):
        sample.save_without_historical_record()
    assert sample.history.count() == 1
    assert _events(sample)[-1].new == {"title": "S-3"}
    assert verify_chain().ok


def test_an_event_appended_during_the_save_is_linked_before_the_saves_own(sample, users):
    """A post_save receiver appends an event after the row update locked the head: the head read
    with the row is stale, so the save's own event must read it again and link after it."""

    def side_event(sender, instance, created, **kwargs):
        audit_record(action="test.side", obj=instance, new={"side": True})

    post_save.connect(side_event, sender=Sample, dispatch_uid="test-side-event")
    try:
        sample.title = "S-4"
        with transaction.atomic(), audit_context(actor=users["qa"]):
            sample.save()
    finally:
        post_save.disconnect(dispatch_uid="test-side-event", sender=Sample)
    side, own = _events(sample)[-2:]
    assert (side.action, own.action) == ("test.side", "sample.sample.update")
    assert own.seq == side.seq + 1 and own.prev_hash == side.hash
    assert sample.history.first().title == "S-4"
    result = verify_chain()
    assert result.ok, result.problems


def test_a_failed_save_leaves_neither_row_nor_version_nor_event(sample, users):
    sample.title = "x" * 101  # longer than the column: the row update fails
    before = (len(_events(sample)), sample.history.count())
    with pytest.raises(Exception), transaction.atomic(), audit_context(actor=users["qa"]):  # noqa: B017, PT011
        sample.save()
    assert (len(_events(sample)), sample.history.count()) == before
    sample.refresh_from_db()
    assert sample.title == "S-1"
    assert verify_chain().ok
