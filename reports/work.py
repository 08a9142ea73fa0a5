"""Home-page cards: reports waiting for the supervisor's review; last month's reports the analyst
has not generated yet."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mes.permcache import holds
from mes.workqueue import WorkCard
from reports.models import Report, ReportStatus

# The reports kept for every calendar month (generated and signed off, then distributed).
MONTHLY_KINDS = ("production", "quality", "efficiency")


def last_month(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar month before `today`."""
    end = (today or timezone.localdate()).replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def monthly_reports_missing(today: dt.date | None = None) -> list[str]:
    """The monthly report kinds with no report generated for last month yet."""
    start, end = last_month(today)
    done = set(
        Report.objects.filter(kind__in=MONTHLY_KINDS, period_start=start, period_end=end).values_list("kind", flat=True)
    )
    return [kind for kind in MONTHLY_KINDS if kind not in done]


def _monthly_card() -> WorkCard:
    missing = monthly_reports_missing()
    start, end = last_month()
    url = reverse("reports:report", args=[missing[0] if missing else MONTHLY_KINDS[0]])
    return WorkCard(
        _("Monthly reports to generate"),
        len(missing),
        f"{url}?{urlencode({'start': start.isoformat(), 'end': end.isoformat()})}",
        _("last month's production, quality and efficiency reports"),
        "warn" if missing else "ok",
    )


def cards(user) -> list[WorkCard]:
    found: list[WorkCard] = []
    if holds(user, "reports.review_report"):
        n = Report.objects.filter(status=ReportStatus.GENERATED).count()
        found.append(
            WorkCard(_("Reports to review"), n, reverse("reports:report_list"), _("check and sign before distribution"),
                     "warn" if n else "ok")
        )  # fmt: skip
    if holds(user, "reports.add_report"):
        found.append(_monthly_card())
    return found
