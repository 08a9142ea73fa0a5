"""Who gets each reports page (others get 403)."""

from mes.registry import Rule

READERS = frozenset({"analyst", "supervisor", "qa", "planner"})


def _report(data) -> dict:
    from reports.models import Report

    pk = Report.objects.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        from django.utils import timezone

        from reports.services import report_generate
        from reports.sources import Filters

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
