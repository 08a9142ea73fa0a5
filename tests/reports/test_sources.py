"""KPIs read from the records: history, output ledger (REP-1: collected automatically)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from reports import builders, kpis, sources
from reports.sources import Filters
from tests.reports.conftest import DAY

pytestmark = [pytest.mark.django_db, pytest.mark.req("REP-1")]


def test_batch_facts_come_from_history_and_ledger(batches, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
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
        ["FG-A", 2, D("300.000"), D("287.000"), "kg", D("95.7")],
        ["FG-B", 1, D("50.000"), D("40.000"), "kg", D("80.0")],
    ]
    assert [r[0] for r in data.table("batches").rows] == ["A-1", "A-2", "B-1"]
    assert any("svg" in str(c) for c in data.charts)


@pytest.mark.req("REP-2")
def test_deviations_linked_to_batches_count_against_right_first_time(batches, users):
    from quality.services.deviations import Link, deviation_raise

    a1, b1 = batches["A-1"], batches["B-1"]
    deviation_raise(user=users["qa"], title="Label check", description="wrong label", classification="minor",
                    links=[Link("batches.batch", a1.pk, a1.number)])  # fmt: skip
    deviation_raise(user=users["qa"], title="Temp high", description="inlet 70", source="parameter",
                    classification="major", links=[Link("batches.batch", b1.pk, b1.number)])  # fmt: skip
    deviation_raise(user=users["qa"], title="Temp again", description="inlet 71", source="parameter",
                    classification="major", links=[Link("batches.batch", b1.pk, b1.number)])  # fmt: skip
    f = Filters(DAY, DAY)
    facts = {x.number: x for x in sources.batch_facts(sources.batch_queryset(f))}
    assert (facts["A-1"].deviations, facts["A-2"].deviations, facts["B-1"].deviations) == (1, 0, 2)
    rft = kpis.right_first_time(facts.values())
    assert (rft.finished, rft.right_first_time, rft.failed) == (2, 0, ["A-1", "A-2"])  # A-1 deviation, A-2 correction
    data = builders.quality(f)
    table = data.table("deviations")
    assert table.columns[1:3] == ["Raised by hand", "Process parameter out of range"]
    assert table.rows == [["Minor", 1, 0, 1], ["Major", 0, 2, 2], ["Critical", 0, 0, 0]]
    only_b = builders.quality(Filters(DAY, DAY, product="FG-B")).table("deviations").rows
    assert only_b[0] == ["Minor", 0, 0] and only_b[1] == ["Major", 2, 2]
