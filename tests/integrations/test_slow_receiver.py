"""A slow partner on loopback, served by two real Celery workers through a real Redis.

The receiver answers each message in 1.5 s. Whatever its speed, each message must arrive once,
be marked delivered as soon as its answer is in, never be sent a second time while the first
request may still be in flight, and carry its Idempotency-Key on every attempt.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction

from integrations.models import OutboxMessage, OutboxStatus
from integrations.services import outbox_enqueue, outbox_sweep
from tests.integrations.workers import RedisServer, celery_workers, database_url, free_port, producer_on

pytestmark = [pytest.mark.req("INT-1"), pytest.mark.django_db(transaction=True)]
SLOW = 1.5  # seconds per answer
TIMEOUT = 3  # the ERP time-out the workers use (MES_ERP_TIMEOUT)
# 40 messages at 1.5 s on 2 workers keep the receiver busy for 30 s, almost three times the lease
# of one request (3 s connect + 2 x 3 s + 2 s margin = 11 s): a batch whose results were recorded
# at its end, or a lease not renewed, would be resent as with 100 (the count; 75 s).
MESSAGES = 40


def _enqueue(n: int) -> set[str]:
    with transaction.atomic():
        messages = [
            outbox_enqueue(system="erp", kind="order_completed", payload={"i": i}, key=f"SLOW-{i}") for i in range(n)
        ]
    return {str(m.message_id) for m in messages}


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        outbox_sweep()  # what celery beat runs every few seconds
        time.sleep(0.5)
    return predicate()


def _undelivered() -> int:
    return OutboxMessage.objects.exclude(status=OutboxStatus.DELIVERED).count()


class _TwoWorkers:
    """Two `solo` Celery workers (one process each, so kill -9 of one stops exactly one sender)."""

    def __init__(self, peer, **extra_env):
        self.redis = RedisServer(free_port())
        self.env = {
            "MES_ERP_URL": peer.url,
            "MES_ERP_TOKEN": "erp-secret",
            "MES_ERP_TIMEOUT": str(TIMEOUT),
            "MES_OUTBOX_BACKOFF_SECONDS": "1",
            "MES_OUTBOX_LEASE_MARGIN_SECONDS": "2",
            **extra_env,
        }
        self._stack = None

    def __enter__(self):
        from contextlib import ExitStack

        self.redis.start()
        self._stack = ExitStack()
        database = database_url(connection.settings_dict)
        common = {"redis_url": self.redis.url, "database": database, "env": self.env, "pool": "solo"}
        self.workers = [
            self._stack.enter_context(celery_workers(name=f"slow{n}", concurrency=1, **common)) for n in (1, 2)
        ]
        self._stack.enter_context(producer_on(self.redis.url))
        return self

    def __exit__(self, *exc):
        try:
            self._stack.close()
        finally:
            self.redis.kill()


def _assert_each_received_once(peer, expected: set[str]) -> None:
    state = peer.state
    assert set(state.accepted) == expected
    assert set(state.accept_counts.values()) == {1}  # applied once each
    assert state.overlaps == 0  # never a second send while the first was still being answered
    posts = [r for r in state.requests if r["method"] == "POST"]
    assert all(r["key"] and r["headers"]["Idempotency-Key"] == r["key"] for r in posts)


def test_slow_receiver_each_message_once_all_marked_delivered(peer):
    peer.state.delay = SLOW
    with _TwoWorkers(peer):
        expected = _enqueue(MESSAGES)
        assert _wait(lambda: _undelivered() == 0, 240), list(
            OutboxMessage.objects.exclude(status="delivered").values_list("status", "attempts", "last_error")[:5]
        )
    _assert_each_received_once(peer, expected)
    posts = [r for r in peer.state.requests if r["method"] == "POST"]
    assert len(posts) == MESSAGES and peer.resent() == 0  # not one message sent twice
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


def test_slow_receiver_with_time_outs_retries_after_the_first_request_is_over(peer):
    """A fifth of the answers take longer than the time-out: those are retried with the same key,
    never while the receiver is still answering the first request, and each applied once."""
    peer.state.delay = SLOW
    peer.state.slow_rate, peer.state.slow_delay = 0.2, TIMEOUT + 1.0
    with _TwoWorkers(peer):
        expected = _enqueue(30)  # about 6 answers too late (seeded), each retried after the time-out
        assert _wait(lambda: _undelivered() == 0, 300)
    _assert_each_received_once(peer, expected)
    timed_out = OutboxMessage.objects.filter(attempts__gt=1)
    assert timed_out.exists()  # some answers did come too late ...
    assert peer.resent() >= timed_out.count() - peer.state.failures  # ... and their retries were recognised


def test_worker_killed_mid_batch_its_message_is_sent_again_only_after_its_lease(peer):
    peer.state.delay = SLOW
    with _TwoWorkers(peer) as workers:
        expected = _enqueue(20)  # the kill comes after 6 accepted, with more than half still to send
        assert _wait(lambda: len(peer.accepted_keys()) >= 6, 120)
        victim = workers.workers[0]
        victim.kill()  # kill -9: mid-request, holding one claimed message
        victim.wait(timeout=10)
        in_flight = OutboxMessage.objects.filter(status=OutboxStatus.SENDING).count()
        assert _wait(lambda: _undelivered() == 0, 300)
    _assert_each_received_once(peer, expected)
    assert 1 <= in_flight <= 2  # one claim per worker, never a batch
    assert peer.resent() <= 1  # only the killed worker's message could go out again (same key)


def test_receiver_that_always_times_out_makes_dead_letters_after_the_configured_attempts(peer, settings):
    from integrations.services import outbox_drain

    settings.MES_OUTBOX_MAX_ATTEMPTS = 2
    settings.MES_INTEGRATIONS["erp"]["timeout"] = 0.3
    peer.state.delay = 0.6
    _enqueue(2)
    for _ in range(6):
        outbox_drain(system="erp", budget_seconds=3)
        time.sleep(0.35)
    dead = OutboxMessage.objects.filter(status=OutboxStatus.DEAD)
    assert dead.count() == 2
    assert all(m.attempts == 2 and "no answer" in m.last_error for m in dead)
    assert peer.state.overlaps == 0
