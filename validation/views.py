"""Validation report pages: the versions, one version with its results and QA's signed approval, the PDF.
Thin: the qualify command builds the report; services approve it."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from audit.services import audit_record
from audit.signatures import SignatureError
from validation.models import VALIDATION_MACHINE, ValidationReport, ValidationReportFile
from validation.services import validation_file_intact, validation_report_approve

VIEW = "validation.view_validationreport"


@permission_required(VIEW, raise_exception=True)
def report_list(request):
    reports = ValidationReport.objects.select_related("generated_by", "approved_by").order_by("-version")[:200]
    return render(request, "validation/report_list.html", {"reports": reports})


@permission_required(VIEW, raise_exception=True)
def report_detail(request, pk: int):
    obj = get_object_or_404(ValidationReport.objects.select_related("generated_by", "approved_by"), pk=pk)
    error = ""
    if request.method == "POST":
        try:
            validation_report_approve(user=request.user, report_id=pk, password=request.POST.get("password", ""),
                                      reason=request.POST.get("reason", ""))  # fmt: skip
            return redirect("validation:report_detail", pk=pk)
        except ValidationError as exc:
            error = " ".join(str(m) for m in exc.messages)
        except SignatureError as exc:
            error = str(exc)
        obj.refresh_from_db()
    context = {
        "report": obj,
        "error": error,
        "intact": validation_file_intact(obj),
        "can_approve": any(t.name == "approve" for t in VALIDATION_MACHINE.available(obj, request.user)),
        "iq_failed": [k for k, v in obj.summary.get("iq", {}).items() if v.endswith("(fail)")],
        "oq_open": [k for k, v in obj.summary.get("oq", {}).items() if v != "passed"],
    }
    return render(request, "validation/report_detail.html", context, status=400 if error else 200)


@permission_required(VIEW, raise_exception=True)
def report_pdf(request, pk: int):
    """The stored PDF, exactly as generated; the download is in the audit trail."""
    file = get_object_or_404(ValidationReportFile.objects.select_related("report"), report_id=pk)
    audit_record(action="validation.validationreport.download", actor=request.user, obj=file.report)
    response = HttpResponse(bytes(file.content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="validation-report-v{file.report.version}.pdf"'
    return response
