"""A signature row is stored in the statement that appends its signing event (audit.services `then`):
the row is what the ORM's save would store, bound to its event, and the chain and every signature
still verify; where something listens to a signature's save signals, the model's own save runs."""

import pytest
from django.db import DataError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from audit.context import audit_context
from audit.models import AuditEvent, Signature
from audit.services import audit_record
from audit.signatures import PendingSignature, signature_create, signature_is_valid, signatures_for
from audit.verification import verify_chain, write_checkpoint
from tests.sample.models import Sample

pytestmark = [pytest.mark.django_db, pytest.mark.req("AUD-2", "SEC-3")]


@pytest.fixture
def sample(users):
    with audit_context(actor=users["qa"], action="sample.create"):
        return Sample.objects.create(title="S-1", quantity=1)


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _sign(sample, user, meaning="approved", reason="") -> Signature:
    with transaction.atomic():
        return signature_create(signer=user, obj=sample, meaning=meaning, reason=reason, action="sample.approve")


def test_the_signature_row_is_written_with_its_event_and_is_the_row_the_orm_reads(sample, users):
    with CaptureQueriesContext(connection) as queries:
        made = _sign(sample, users["qa"], reason="Approved after review")
    stored = Signature.objects.get(pk=made.pk)
    assert _fields(made) == _fields(stored)
    event = AuditEvent.objects.get(pk=stored.audit_event_id)
    assert (event.action, event.object_id, event.actor_id) == ("signature.sign", str(sample.pk), users["qa"].pk)
    assert made.audit_event == event and not made._state.adding
    assert (stored.printed_name, stored.meaning, stored.reason, stored.object_type) == (
        users["qa"].get_full_name(), "approved", "Approved after review", "sample.sample"
    )  # fmt: skip
    assert signatures_for(sample) == [stored] and signature_is_valid(stored, sample)
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    if connection.vendor == "postgresql":  # one statement: the event, the head's move (trigger) and the row
        assert len(inserts) == 1 and "audit_auditevent" in inserts[0] and '"audit_signature"' in inserts[0]
        # the audit trail's own statement runs without a savepoint of its own (only _sign's atomic block)
        assert sum(q["sql"].startswith("SAVEPOINT") for q in queries.captured_queries) == 1
    _verified()


def test_two_signatures_in_one_transaction_each_bind_their_own_event(sample, users):
    with transaction.atomic():
        first = signature_create(signer=users["qa"], obj=sample, meaning="reviewed", action="sample.review")
        second = signature_create(signer=users["supervisor"], obj=sample, meaning="approved", action="sample.approve")
    assert first.audit_event_id != second.audit_event_id
    rows = list(Signature.objects.filter(pk__in=[first.pk, second.pk]).select_related("audit_event"))
    assert {(r.meaning, r.audit_event.actor_id) for r in rows} == {
        ("reviewed", users["qa"].pk), ("approved", users["supervisor"].pk)
    }  # fmt: skip
    _verified()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not enforce a column's length")
def test_a_row_the_database_refuses_takes_its_event_with_it(sample, users):
    """The signature row refused (a printed name longer than its column) fails the statement that
    appends its event: neither is stored, and the chain goes on from where it was."""
    events, signatures = AuditEvent.objects.count(), Signature.objects.count()
    signer = type(users["qa"])(pk=users["qa"].pk, username=users["qa"].username, first_name="N" * 300)
    with pytest.raises(DataError), transaction.atomic():
        signature_create(signer=signer, obj=sample, meaning="approved")
    assert (AuditEvent.objects.count(), Signature.objects.count()) == (events, signatures)
    _sign(sample, users["qa"])
    _verified()


def test_a_listener_to_signature_saves_is_served_by_the_models_own_save(sample, users):
    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(listener, sender=Signature, dispatch_uid="test-signature-listener")
    try:
        assert not PendingSignature.applies()
        made = _sign(sample, users["qa"])
    finally:
        post_save.disconnect(dispatch_uid="test-signature-listener", sender=Signature)
    assert heard == [(made.pk, True)]
    assert Signature.objects.get(pk=made.pk).audit_event_id == made.audit_event_id
    assert PendingSignature.applies()
    _verified()


def _verified() -> None:
    write_checkpoint()
    outcome = verify_chain()
    assert outcome.ok, outcome
    assert outcome.signatures == Signature.objects.count()


def _head_reads(queries) -> int:
    """Reads of the chain head on their own (FOR UPDATE on PostgreSQL; SQLite's transaction is exclusive)."""
    return sum(q["sql"].startswith("SELECT seq, hash FROM audit_chainhead") for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)  # real commits: each transaction begins without the head's lock
def test_the_second_event_of_a_transaction_links_to_the_first_without_reading_the_head(sample, users):
    """The transaction holds the head's lock since its first append: the next append links to the head it
    left (no second read), in the same transaction only."""
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        first = _sign(sample, users["qa"], meaning="reviewed")
        second = _sign(sample, users["supervisor"])
    events = AuditEvent.objects.filter(pk__in=[first.audit_event_id, second.audit_event_id]).order_by("seq")
    assert events[1].seq == events[0].seq + 1 and events[1].prev_hash == events[0].hash
    assert _head_reads(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        _sign(sample, users["qa"], meaning="approved")  # a transaction of its own reads the head anew
    assert _head_reads(queries) == 1
    _verified()


def test_after_a_savepoint_rolled_back_the_head_is_read_again(sample, users):
    """An append undone by a rolled-back savepoint left no head: the next append reads the head (the one
    before it) and links there, and the chain verifies."""
    with transaction.atomic():
        kept = _sign(sample, users["qa"], meaning="reviewed")
        try:
            with transaction.atomic():
                _sign(sample, users["supervisor"])
                raise RuntimeError("undo the second signature")
        except RuntimeError:
            pass
        with CaptureQueriesContext(connection) as queries:
            last = _sign(sample, users["supervisor"])
    assert _head_reads(queries) == 1
    before, after = (AuditEvent.objects.get(pk=s.audit_event_id) for s in (kept, last))
    assert after.seq == before.seq + 1 and after.prev_hash == before.hash
    assert Signature.objects.filter(object_id=str(sample.pk)).count() == 2
    _verified()


def test_a_transaction_appending_many_events_keeps_one_mark(sample, users):
    """A bulk transaction (an import, a seed) does not pile up one commit hook per event."""

    def marks() -> int:
        return sum(hook[1].__name__ == "appended" for hook in connection.run_on_commit)

    with transaction.atomic():
        before = marks()
        for n in range(200):
            audit_record(action="sample.note", actor=users["qa"], obj=sample, new={"n": n})
        assert marks() - before <= 1
    events = list(AuditEvent.objects.filter(action="sample.note").order_by("seq"))
    assert len(events) == 200 and all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    _verified()
