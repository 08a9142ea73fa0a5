"""Home-page work of the reports: the monthly reports the analyst has not generated yet."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from reports import services
from reports.sources import Filters
from reports.work import last_month

pytestmark = pytest.mark.django_db


def test_last_month_spans_the_previous_calendar_month():
    assert last_month(dt.date(2026, 3, 15)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert last_month(dt.date(2026, 1, 1)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


@pytest.mark.req("REP-3")
def test_analyst_home_counts_last_months_reports_still_to_generate(client_for, users):
    def card():
        cards = {str(c.title): c for c in client_for("analyst").get(reverse("home")).context["cards"]}
        return cards["Monthly reports to generate"]

    start, end = last_month()
    assert card().count == 3 and f"start={start.isoformat()}" in card().url
    assert card().url.startswith(reverse("reports:report", args=["production"]))
    services.report_generate(kind="production", filters=Filters(start, end), user=users["analyst"])
    services.report_generate(kind="quality", filters=Filters(start.replace(day=2), end), user=users["analyst"])
    assert card().count == 2  # a report of part of the month does not count
    assert card().url.startswith(reverse("reports:report", args=["quality"]))
    services.report_generate(kind="quality", filters=Filters(start, end), user=users["analyst"])
    services.report_generate(kind="efficiency", filters=Filters(start, end), user=users["analyst"])
    assert card().count == 0 and card().tone == "ok"
    assert "Monthly reports to generate" not in {
        str(c.title) for c in client_for("operator").get(reverse("home")).context["cards"]
    }
