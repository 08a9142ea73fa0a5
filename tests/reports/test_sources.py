"""KPIs read from the records: history, output ledger (REP-1: collected automatically)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from reports import builders, kpis, sources
from reports.sources import Filters
from tests.reports.conftest import DAY

pytestmark = [pytest.mark.django_db, pytest.mark.req("REP-1")]


def test_batch_facts_come_from_history_and_ledger(batches, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        facts = {f.number: f for f in sources.batch_facts(sources.batch_queryset(Filters(DAY, DAY)))}
    assert sorted(facts) == ["A-1", "A-2", "B-1"]  # B-2 never completed and has no due date
    a1, a2 = facts["A-1"], facts["A-2"]
    assert (a1.actual, a1.corrections, a1.closed_at is not None) == (D("97.000"), 0, True)
    assert (a2.actual, a2.corrections) == (D("190.000"), 1)
    assert [(r.number, r.actual_min) for r in kpis.cycle_times(facts.values())] == [
        ("A-1", 300), ("A-2", 480), ("B-1", 120),
    ]  # fmt: skip
    rft = kpis.right_first_time(facts.values())
    assert (rft.finished, rft.right_first_time) == (2, 1)  # A-1 closed clean; A-2 corrected; B-1 not finished


def test_filters_by_product_and_line(batches):
    only_b = sources.batch_facts(sources.batch_queryset(Filters(DAY, DAY, product="FG-B")))
    assert [f.number for f in only_b] == ["B-1"]
    assert sources.batch_facts(sources.batch_queryset(Filters(DAY, DAY, line="L2"))) == []


def test_production_report_tables(batches):
    data = builders.production(Filters(DAY, DAY))
    assert data.table("output_product").rows == [
        ["FG-A", 2, D("300.000"), D("287.000"), D("95.7")],
        ["FG-B", 1, D("50.000"), D("40.000"), D("80.0")],
    ]
    assert [r[0] for r in data.table("batches").rows] == ["A-1", "A-2", "B-1"]
    assert any("svg" in str(c) for c in data.charts)
