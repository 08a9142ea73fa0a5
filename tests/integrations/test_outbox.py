"""The outbox against a real HTTP receiver on loopback: once-only delivery, retries, dead letters."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from integrations.models import OutboxMessage, OutboxStatus
from integrations.services import outbox_claim, outbox_drain, outbox_enqueue, outbox_replay, outbox_sweep

pytestmark = pytest.mark.req("INT-1", "INT-4")


def _enqueue(n: int, *, system="erp", kind="order_completed", prefix="PO") -> list[OutboxMessage]:
    with transaction.atomic():
        return [
            outbox_enqueue(system=system, kind=kind, payload={"order": f"{prefix}-{i}", "qty": i}, key=f"{prefix}-{i}")
            for i in range(n)
        ]


def _drain_until_quiet(system="erp", rounds=50):
    for _ in range(rounds):
        outbox_drain(system=system)
        if not OutboxMessage.objects.filter(system=system, status__in=["pending", "sending"]).exists():
            return
    raise AssertionError("the outbox did not empty")


def test_message_exists_only_if_the_business_change_committed(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(system="erp", kind="order_completed", payload={"x": 1}, key="PO-rolled-back")
        raise RuntimeError("the business change failed")
    assert not OutboxMessage.objects.filter(key="PO-rolled-back").exists()
    _enqueue(1, prefix="PO-kept")
    assert OutboxMessage.objects.filter(key="PO-kept-0").count() == 1


def test_one_event_is_one_message(db):
    _enqueue(3)
    _enqueue(3)  # the same events again (a retried service call)
    assert OutboxMessage.objects.count() == 3


def test_commit_queues_delivery_and_the_receiver_gets_each_message_once(db, peer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        messages = _enqueue(5)
    assert len(callbacks) == 1  # one dispatch per transaction and system, not one per message
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"delivered"}
    keys = {str(m.message_id) for m in messages}
    assert set(peer.accepted_keys()) == keys and peer.resent() == 0
    request = peer.state.requests[0]
    assert request["path"] == "/mes/order-completions"
    assert request["headers"]["Idempotency-Key"] in keys
    assert request["headers"]["Authorization"] == "Bearer erp-secret"
    body = peer.state.accepted[request["headers"]["Idempotency-Key"]]
    assert body["kind"] == "order_completed" and body["data"]["order"].startswith("PO-")


def test_receiver_down_then_up_everything_arrives_once(db, peer):
    messages = _enqueue(20)
    peer.stop()
    outbox_drain(system="erp")
    stuck = OutboxMessage.objects.get(pk=messages[0].pk)
    assert stuck.status == OutboxStatus.PENDING and stuck.attempts == 1
    assert "cannot connect" in stuck.last_error
    peer.start()  # the same port again
    outbox_sweep()  # beat: queues dispatch for due systems (eager in tests)
    _drain_until_quiet()
    assert OutboxMessage.objects.filter(status="delivered").count() == 20
    assert sorted(peer.accepted_keys()) == sorted(str(m.message_id) for m in messages)
    assert peer.resent() == 0


def test_flaky_receiver_thirty_percent_failures_none_lost_none_twice(db, peer):
    peer.state.fail_rate = 0.3
    messages = _enqueue(200)
    _drain_until_quiet(rounds=100)
    assert peer.state.failures > 20
    assert sorted(peer.accepted_keys()) == sorted(str(m.message_id) for m in messages)
    assert peer.resent() == 0
    retried = OutboxMessage.objects.filter(attempts__gt=1).count()
    assert retried > 0 and OutboxMessage.objects.filter(status="delivered").count() == 200


def test_dead_letter_after_max_attempts_then_replay(db, peer, settings, users):
    settings.MES_OUTBOX_MAX_ATTEMPTS = 3
    peer.state.fail_rate = 1.0
    (message,) = _enqueue(1)
    for _ in range(5):
        outbox_drain(system="erp")
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD and message.attempts == 3
    assert "HTTP 500" in message.last_error
    assert AuditEvent.objects.filter(action="integrations.outbox.dead_letter", object_id=str(message.pk)).exists()
    peer.state.fail_rate = 0.0
    outbox_replay(actor=users["admin"], message_id=message.pk, reason="ERP back from maintenance")
    _drain_until_quiet()
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED and message.replayed_count == 1
    assert peer.accepted_keys() == [str(message.message_id)]
    event = AuditEvent.objects.get(action="integrations.outbox.replay")
    assert event.username == "admin" and event.reason == "ERP back from maintenance"


def test_replay_needs_permission_and_a_dead_letter(db, peer, users):
    from django.core.exceptions import PermissionDenied, ValidationError

    (message,) = _enqueue(1)
    with pytest.raises(PermissionDenied):
        outbox_replay(actor=users["operator"], message_id=message.pk)
    with pytest.raises(ValidationError):
        outbox_replay(actor=users["admin"], message_id=message.pk)  # pending, not dead


def test_receiver_refusing_the_message_makes_a_dead_letter_at_once(db, peer):
    peer.state.fail_next, peer.state.fail_status = 1, 422
    (message,) = _enqueue(1)
    outbox_drain(system="erp")
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD and message.attempts == 1 and message.last_status_code == 422


def test_time_out_is_retried_with_the_same_idempotency_key(db, peer, settings):
    settings.MES_INTEGRATIONS["erp"]["timeout"] = 0.3
    peer.state.delay = 0.6
    (message,) = _enqueue(1)
    outbox_drain(system="erp")
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and "no answer" in message.last_error
    peer.state.delay = 0
    time.sleep(0.5)  # the slow first request completes on the receiver's side
    _drain_until_quiet()
    # The slow first attempt did arrive; the retry carried the same key, so the receiver applied it once.
    keys = [r["key"] for r in peer.state.requests if r["method"] == "POST"]
    assert keys == [str(message.message_id)] * 2
    assert peer.accepted_keys() == [str(message.message_id)]


def test_unconfigured_system_keeps_its_messages_waiting(db, settings):
    settings.MES_INTEGRATIONS = {"erp": {"base_url": "", "token": "", "timeout": 1.0}}
    (message,) = _enqueue(1)
    outbox_drain(system="erp")
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and "not connected" in message.last_error


def test_a_worker_that_died_mid_send_leaves_a_lease_that_expires(db, peer):
    (message,) = _enqueue(1)
    _token, claimed = outbox_claim(system="erp", limit=10)  # claimed, then the worker "dies"
    assert [m.pk for m in claimed] == [message.pk]
    assert outbox_claim(system="erp", limit=10)[1] == []  # nobody else takes it while leased
    from datetime import timedelta

    from django.utils import timezone

    OutboxMessage.objects.filter(pk=message.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    _drain_until_quiet()
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED and message.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_claim_the_same_message(peer, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claiming is a PostgreSQL feature (SQLite serialises writers)")
    monkeypatch.setattr("integrations.services.outbox.outbox_dispatch_queue", lambda *a, **k: False)
    _enqueue(300)  # committed, nothing delivered yet: the three "workers" below race for them
    claimed: list[list[int]] = []
    barrier = threading.Barrier(3)

    def worker():
        from django.db import connection as conn

        barrier.wait()
        mine = []
        while True:
            _token, batch = outbox_claim(system="erp", limit=7)
            if not batch:
                break
            mine.extend(m.pk for m in batch)
        claimed.append(mine)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [pk for mine in claimed for pk in mine]
    assert len(everything) == 300 and len(set(everything)) == 300


def test_a_claim_of_several_renews_its_lease_before_a_send_it_would_not_cover(db, peer):
    """A batch claim holds a lease of ONE request: before each send whose request the lease would
    not cover, the sender renews it (committed), and a message whose claim was lost in between
    (another worker took it after the lease ran out) is dropped, never sent."""
    import uuid

    from integrations.services.outbox import _Claim, lease_seconds

    _enqueue(3)
    claim = _Claim("erp", 3, expired=True)
    assert len(claim.messages) == 3
    first = claim.next_to_send()  # the lease covers it: sent without renewing
    leased = OutboxMessage.objects.get(pk=claim.messages[0].pk).lease_until
    claim.lease_ends = time.monotonic()  # as if the first answer took almost the whole lease
    taken, last = claim.messages
    OutboxMessage.objects.filter(pk=taken.pk).update(claim_token=uuid.uuid4())  # another worker's now
    second = claim.next_to_send()
    assert second.pk == last.pk and first.pk not in (taken.pk, last.pk)
    assert not claim.messages  # the lost one is dropped, not sent
    renewed = OutboxMessage.objects.get(pk=second.pk).lease_until
    assert renewed > leased and claim.lease_ends > time.monotonic() + lease_seconds("erp") - 5
    assert OutboxMessage.objects.get(pk=taken.pk).lease_until == leased  # not ours: untouched


def test_messages_claimed_but_not_sent_are_released_at_once(db, peer):
    """A receiver that cannot be reached stops the batch: the messages claimed with the one that
    failed go back to pending at once (not after a lease), their attempt not counted."""
    from integrations.services.outbox import _Pace, outbox_deliver_batch

    _enqueue(5)
    peer.stop()
    report = outbox_deliver_batch(system="erp", pace=_Pace(seconds=0.001))  # fast receiver so far: claims 5
    assert report.claimed == 1 and report.failed == 1
    rows = list(OutboxMessage.objects.order_by("id").values_list("status", "attempts", "lease_until", "claim_token"))
    assert rows[0][:2] == ("pending", 1)
    assert rows[1:] == [("pending", 0, None, None)] * 4
