"""Fault: a Celery worker is killed with SIGKILL mid-run; its tasks are redelivered and each task's
effect is applied exactly once (3,000 tasks through a real Redis broker and real worker processes)."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from tests.faults.report import record
from tests.faults.servers import PrivateRedis, celery_worker, django_env, wait_until
from tests.integrations.workers import database_url, producer_on
from tests.sample.models import SampleDelivery, SampleEffect
from tests.sample.tasks import sample_effect

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.req("INT-1")]
# 3,000 tasks, killed after a quarter (as 2,500 of 10,000 were): frozen with tasks in flight, the
# kill proves the same (none lost, none doubled) in about a third of the time.
TASKS = 3_000
KILL_AFTER = 750  # effects applied before the kill: the worker is mid-run, not idle
VISIBILITY_TIMEOUT = 10  # seconds before an unacknowledged task of a dead worker is handed out again


def _publish(app, n: int) -> None:
    with app.producer_or_acquire() as producer:
        for i in range(n):
            sample_effect.apply_async(args=[f"t{i:05d}"], producer=producer)


def _drained(broker) -> bool:
    return broker.llen("celery") == 0 and broker.hlen("unacked") == 0


def _sweep(app) -> int:
    """Re-queue the tasks whose effect is missing once the broker holds nothing more for them.

    Redis's transport takes a message off the queue (BRPOP) before it records it as unacknowledged:
    a worker killed between the two loses that message in the broker. The product never relies on
    the broker alone for work that must happen: the intent is a database row (the integrations
    outbox) and the beat sweeper hands out again what is still pending. This is that sweeper for the
    tests-only task; the effect is idempotent, so a re-queued task that did run changes nothing."""
    done = set(SampleEffect.objects.values_list("key", flat=True))
    missing = [key for key in (f"t{i:05d}" for i in range(TASKS)) if key not in done]
    with app.producer_or_acquire() as producer:
        for key in missing:
            sample_effect.apply_async(args=[key], producer=producer)
    return len(missing)


def _all_applied(app, broker, swept: list[int]) -> bool:
    if not _drained(broker):
        return False
    if SampleEffect.objects.count() >= TASKS:
        return True
    swept.append(_sweep(app))
    return False


def _freeze_with_tasks_in_flight(worker, broker, attempts: int = 200) -> int:
    """Stop the worker's whole process group at a moment it holds unacknowledged tasks and return
    how many. A running worker can be between an acknowledgement and its next fetch (with prefetch 1
    per process, nothing in flight for an instant); frozen, the count cannot change before the kill."""
    for _ in range(attempts):
        worker.freeze()
        in_flight = broker.hlen("unacked")  # delivered to the worker, not yet acknowledged
        if in_flight >= 1:
            return in_flight
        worker.thaw()
        time.sleep(0.01)
    raise AssertionError("the worker never held a task in flight when frozen")


@pytest.mark.django_db(transaction=True)
def test_kill_9_worker_mid_run_loses_no_task_and_doubles_none():
    broker = PrivateRedis().start()
    env = django_env(
        database_url=database_url(connection.settings_dict),
        redis_url=broker.url,
        settings="tests.settings",  # the worker knows the tests-only task of tests.sample
        MES_BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        MES_BROKER_RESTORE_INTERVAL="1",
    )
    first = second = None
    try:
        with producer_on(broker.url) as app:
            _publish(app, TASKS)
        client = broker.client()
        assert client.llen("celery") == TASKS
        started = time.monotonic()
        first = celery_worker(env, name="victim")
        wait_until(lambda: SampleEffect.objects.count() >= KILL_AFTER, 600, 0.2, "first worker progress")
        in_flight = _freeze_with_tasks_in_flight(first, client)
        applied_at_kill = SampleEffect.objects.count()
        first.kill()  # kill -9 of the worker and its pool processes, mid-task
        killed_at = time.monotonic()
        assert client.hlen("unacked") == in_flight  # nobody acknowledged them: they wait for redelivery
        second = celery_worker(env, name="fresh")
        swept: list[int] = []
        with producer_on(broker.url) as app:
            wait_until(lambda: _all_applied(app, client, swept), 900, 0.5, "all tasks")
        finished = time.monotonic()
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        broker.destroy()

    effects = SampleEffect.objects.count()
    distinct = SampleEffect.objects.values("key").distinct().count()
    runs = SampleDelivery.objects.count()
    redelivered = runs - SampleDelivery.objects.filter(applied=True).count()
    record(
        "kill -9 Celery worker",
        tasks=TASKS,
        applied=effects,
        lost=TASKS - distinct,
        doubled=effects - distinct,
        applied_at_kill=applied_at_kill,
        in_flight_at_kill=in_flight,
        runs_that_found_effect_applied=redelivered,
        requeued_by_sweeper=sum(swept),
        recovery_s=round(finished - killed_at, 1),
        total_s=round(finished - started, 1),
    )
    assert distinct == TASKS and effects == TASKS  # none lost, none doubled
    assert SampleDelivery.objects.filter(applied=True).count() == TASKS  # the effect happened once per key
    assert applied_at_kill < TASKS
