"""The production report as a reader sees it (page and PDF share the template data): numbers without
exponents or 12 trailing zeros, a unit beside every quantity, and no chart adding kg to pieces."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from reports import builders, sources
from reports.kpis import BatchFact
from reports.sources import Filters

pytestmark = pytest.mark.req("REP-2")


@pytest.fixture
def mixed_units(monkeypatch):
    t0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    facts = [
        BatchFact(1, "G-1", "IM-GRN-500", "L1", "closed", D("146.200000000000"), D("140.100000000000"), unit="kg",
                  started_at=t0, completed_at=t0 + dt.timedelta(hours=5)),
        BatchFact(2, "T-1", "FP-TAB-500", "L1", "closed", D("200000"), D("196500"), unit="pcs",
                  started_at=t0, completed_at=t0 + dt.timedelta(hours=7)),
    ]  # fmt: skip
    monkeypatch.setattr(sources, "batch_queryset", lambda filters: None)
    monkeypatch.setattr(sources, "batch_facts", lambda batches: facts)
    monkeypatch.setattr(sources, "step_times", lambda batches: [])
    return facts


def _filters() -> Filters:
    return Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))


def test_production_report_numbers_have_units_and_no_exponent(mixed_units):
    data = builders.production(_filters())
    html = render_to_string("reports/pdf/report.html", {"data": data, "header": []})
    assert "146.200000000000" not in html and "E+" not in html
    assert ">146.2<" in html and ">196500<" in html
    by_product = data.table("output_product")
    assert [(row[0], row[4]) for row in by_product.rows] == [("FP-TAB-500", "pcs"), ("IM-GRN-500", "kg")]
    by_line = data.table("output_line")  # one line making kg and pieces: two rows, never one sum
    assert [(row[0], row[2], row[4]) for row in by_line.rows] == [("L1", D("146.2"), "kg"), ("L1", D("200000"), "pcs")]


def test_one_chart_per_unit_so_an_axis_never_mixes_kg_and_pieces(mixed_units):
    data = builders.production(_filters())
    assert len(data.charts) == 2
    assert "(kg)" in data.charts[0] and "IM-GRN-500" in data.charts[0] and "FP-TAB-500" not in data.charts[0]
    assert "(pcs)" in data.charts[1] and "FP-TAB-500" in data.charts[1]


def test_batch_report_names_material_movements_in_the_readers_language():
    """The batch report's materials table shows a movement as people name it, not its stored code."""
    with translation.override("zh-hans"):
        assert builders._movement("issue") == "发料到批次"
    with translation.override("en"):
        assert builders._movement("issue") == "Issue to batch"
        assert builders._movement("output") == "Production output"
    assert builders._movement("unheard-of") == "unheard-of"
