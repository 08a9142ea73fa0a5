"""The production report's per-batch deviation count does not evaluate the period's batch set again.

As a subquery, the batch set (its first completions read from the history) was planned as the inner
side of a nested loop whenever the small link table's statistics said it held a row or so, and was
evaluated once per link: 814 ms of the database for one report over a month of 10,000 batches. On
PostgreSQL the count now takes the batch ids the report has just read, as one array parameter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import sources
from reports.sources import Filters
from tests.reports.conftest import DAY

pytestmark = pytest.mark.django_db


def _link(users, batch, title: str) -> None:
    from quality.services.deviations import Link, deviation_raise

    deviation_raise(user=users["qa"], title=title, description=title, classification="minor",
                    links=[Link("batches.batch", batch.pk, batch.number)])  # fmt: skip


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no arrays: the count stays a subquery")
def test_the_deviation_count_takes_the_batch_ids_and_not_the_batch_set_again(batches, users):
    a1, b1 = batches["A-1"], batches["B-1"]
    _link(users, a1, "Label check")
    _link(users, b1, "Temp high")
    _link(users, b1, "Temp again")
    with CaptureQueriesContext(connection) as queries:
        facts = {f.number: f for f in sources.batch_facts(sources.batch_queryset(Filters(DAY, DAY)))}
    assert (facts["A-1"].deviations, facts["A-2"].deviations, facts["B-1"].deviations) == (1, 0, 2)
    counting = [q["sql"] for q in queries.captured_queries if "quality_deviationlink" in q["sql"]]
    assert len(counting) == 1 and "ANY(" in counting[0]
    assert "batches_batch" not in counting[0] and "historicalbatch" not in counting[0]
