"""Who gets each reports page (others get 403)."""

from django.utils import timezone

from mes.registry import Rule
from reports.models import Report
from reports.services import report_generate
from reports.sources import Filters

READERS = frozenset({"analyst", "supervisor", "qa", "planner"})


def _report(data) -> dict:
    pk = Report.objects.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        today = timezone.localdate()
        pk = report_generate(kind="inventory", filters=Filters(today, today)).pk
    return {"pk": pk}


ACCESS = {
    "reports:dashboard": Rule(READERS),
    "reports:production": Rule(READERS),
    "reports:report": Rule(READERS, kwargs={"kind": "quality"}),
    "reports:report_list": Rule(READERS),
    "reports:report_detail": Rule(READERS, make_kwargs=_report),
    "reports:report_pdf": Rule(READERS, make_kwargs=_report),
    "reports:subscriptions": Rule(READERS),
}
