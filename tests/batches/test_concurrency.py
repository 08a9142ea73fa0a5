"""Two people entering the same value at once: one is stored, the other gets a conflict message.

Real concurrent connections on PostgreSQL: both read version 0; the row lock serialises the writes
and the optimistic version check refuses the second one, so nothing is silently overwritten.
"""

import threading

import pytest
from django.db import connection, connections

from batches import services as s
from batches.models import Entry
from tests.batches.conftest import fresh

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises all writers, so there is no race to lose")


@pytest.mark.req("BAT-2")
def test_two_operators_record_the_same_value_at_once(running, users):
    batch = running["batch"]
    step = s.step_start(user=fresh(users["operator"]), step=batch.steps.get(number=10), scan="GRAN-01")
    entry = step.entries.get(name="Impeller speed")
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def worker(name, value):
        try:
            user = fresh(users[name])
            barrier.wait()
            s.entry_record(user=user, entry=entry.pk, value=value, version=0)
            results[name] = "stored"
        except s.EntryConflict as exc:
            results[name] = "conflict: " + " ".join(exc.messages)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=("operator", "150")),
        threading.Thread(target=worker, args=("operator2", "155")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.split(":")[0] for r in results.values()) == ["conflict", "stored"]
    winner = next(n for n, r in results.items() if r == "stored")
    loser_message = next(r for r in results.values() if r.startswith("conflict"))
    assert "Nothing was overwritten" in loser_message
    stored = Entry.objects.get(pk=entry.pk)
    assert stored.version == 1 and stored.entered_by.username == winner
    assert stored.value == {"operator": "150", "operator2": "155"}[winner]
