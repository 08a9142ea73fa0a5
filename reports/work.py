"""Home-page cards: reports waiting for the supervisor's review."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mes.workqueue import WorkCard


def cards(user) -> list[WorkCard]:
    from reports.models import Report, ReportStatus

    found: list[WorkCard] = []
    if user.has_perm("reports.review_report"):
        n = Report.objects.filter(status=ReportStatus.GENERATED).count()
        found.append(
            WorkCard(_("Reports to review"), n, reverse("reports:report_list"), _("check and sign before distribution"),
                     "warn" if n else "ok")
        )  # fmt: skip
    return found
