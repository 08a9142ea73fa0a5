"""Who gets each validation page (others get 403)."""

from mes.registry import Rule

READERS = frozenset({"qa", "auditor"})


def _report(data) -> dict:
    import tempfile
    from pathlib import Path

    from validation.models import ValidationReport
    from validation.services import validation_report_create

    pk = ValidationReport.objects.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        with tempfile.TemporaryDirectory() as tmp:
            pk = validation_report_create(folder=Path(tmp)).pk
    return {"pk": pk}


ACCESS = {
    "validation:report_list": Rule(READERS),
    "validation:report_detail": Rule(READERS, make_kwargs=_report),
    "validation:report_pdf": Rule(READERS, make_kwargs=_report),
}
