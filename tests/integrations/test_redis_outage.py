"""Delivery through real Celery workers and a real Redis that crashes mid-delivery."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction

from integrations.models import OutboxMessage
from integrations.services import outbox_enqueue, outbox_sweep
from tests.integrations.workers import RedisServer, celery_workers, database_url, producer_on

REDIS_PORT = 6390


def _enqueue(prefix: str, n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            outbox_enqueue(system="erp", kind="order_completed", payload={"i": i}, key=f"{prefix}-{i}")


def _wait(predicate, timeout: float, tick=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if tick:
            tick()
        time.sleep(0.5)
    return predicate()


@pytest.mark.req("INT-1")
@pytest.mark.django_db(transaction=True)
def test_redis_crash_mid_delivery_loses_nothing_and_sends_nothing_twice(peer):
    peer.state.delay = 0.01  # a receiver that takes 10 ms per message: delivery is still running below
    redis = RedisServer(REDIS_PORT).start()
    env = {"MES_ERP_URL": peer.url, "MES_ERP_TOKEN": "erp-secret", "MES_OUTBOX_BACKOFF_SECONDS": "1"}
    try:
        with (
            celery_workers(redis_url=redis.url, database=database_url(connection.settings_dict), env=env),
            producer_on(redis.url),
        ):
            _enqueue("before", 200)  # committed -> one dispatch task through Redis
            assert _wait(lambda: len(peer.accepted_keys()) > 0, 30), "the worker never started delivering"
            redis.kill()  # mid-delivery
            delivered_at_crash = len(peer.accepted_keys())
            assert delivered_at_crash < 200
            _enqueue("during", 100)  # the dispatch cannot be queued: the rows wait in the outbox
            redis.start()  # back, empty: every queued task is gone
            done = _wait(
                lambda: not OutboxMessage.objects.exclude(status="delivered").exists(),
                90,
                tick=outbox_sweep,  # what celery beat runs every few seconds
            )
            assert done, OutboxMessage.objects.exclude(status="delivered").values_list("status", "last_error")[:5]
    finally:
        redis.kill()
    expected = {str(m) for m in OutboxMessage.objects.values_list("message_id", flat=True)}
    assert len(expected) == 300
    assert set(peer.accepted_keys()) == expected
    assert peer.resent() == 0
