"""Stock never goes negative, also when several operators issue the same lot at the same moment.

Real concurrent connections on PostgreSQL: each thread has its own database connection and runs
the issue service; the lot lock serialises them and the last ones are refused for short supply.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from audit.context import audit_context
from batches.models import Batch
from materials.models import EntryType, LedgerEntry
from materials.services import lot_issue_to_batch, on_hand, stock_check

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
PER_ISSUE = Decimal("3")


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises all writers, so there is no race to lose")


@pytest.mark.req("MAT-2", "MAT-7")
def test_concurrent_issues_of_the_same_lot_never_take_stock_below_zero(released, api, granules, users):
    lot = released(api, "10")  # enough for three issues of 3 kg, not for eight
    batches = []
    for i in range(THREADS):
        with audit_context(action="test.setup"):
            batches.append(
                Batch.objects.create(
                    number=f"RACE-{i}", product=granules, planned_quantity=100, unit="kg", status="in_progress"
                )
            )
    barrier = threading.Barrier(THREADS)
    results: list[str] = []

    def worker(batch):
        try:
            barrier.wait()
            lot_issue_to_batch(
                user=users["operator"],
                batch=batch,
                lot_code=lot.code,
                quantity=PER_ISSUE,
                unit="kg",
                material=api,
                required_quantity=PER_ISSUE,
                tolerance_pct=0,
            )
            results.append("ok")
        except ValidationError as exc:
            results.append("refused: " + " ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 3, results
    assert all("Not enough stock" in r for r in results if r != "ok")
    assert on_hand(lot) == Decimal("1")
    assert LedgerEntry.objects.filter(lot=lot, entry_type=EntryType.ISSUE).count() == 3
    assert stock_check() == []
