"""Validation report services: store a new version of the report, and QA's signed approval."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from mes.workflow import transition_apply
from validation import report
from validation.models import VALIDATION_MACHINE, ValidationReport, ValidationReportFile


def validation_report_create(*, user=None, folder: Path, executed_by: str = "") -> ValidationReport:
    """Build the PDF from the evidence in `folder` and store it as the next version, with its SHA-256 and
    the differences from the previous version (versions, results)."""
    data = report.collect(folder)
    summary = report.summary_of(data)
    with transaction.atomic():
        previous = ValidationReport.objects.select_for_update().order_by("-version").first()
        version = (previous.version + 1) if previous else 1
        changes = report.changes_between(previous.summary if previous else None, summary)
        who = executed_by or (user.get_username() if user else "manage.py qualify")
        pdf = report.render(data, folder, version=version, changes=changes, executed_by=who)
        passed = all(summary["passed"].get(stage) for stage in ("iq", "oq", "pq"))
        with audit_context(actor=user, action="validation.validationreport.generate"):
            obj = ValidationReport(
                version=version, passed=passed, summary=summary, changes=changes, generated_at=timezone.now(),
                generated_by=user, pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf_size=len(pdf),
            )  # fmt: skip
            obj.save()
        ValidationReportFile.objects.create(report=obj, content=pdf)
    (folder / f"validation-report-v{version}.pdf").write_bytes(pdf)
    return obj


def validation_report_approve(*, user, report_id: int, password: str, reason: str = "") -> ValidationReport:
    """QA approves the report with a Part 11 signature (meaning "approved", for "approved — validation
    report"), bound to the stored file's hash; refused when the file no longer matches its checksum."""

    def guard(obj: ValidationReport) -> None:
        if obj.stored_file_sha256() != obj.pdf_sha256:
            raise ValidationError(_("The report file does not match its recorded checksum; it cannot be signed."))

    return transition_apply(
        model=ValidationReport,
        pk=report_id,
        machine=VALIDATION_MACHINE,
        name="approve",
        user=user,
        reason=reason or _("Approved — validation report"),
        password=password,
        guard=guard,
        changes={"approved_by": user, "approved_at": timezone.now()},
    )


def validation_file_intact(obj: ValidationReport) -> bool:
    return obj.stored_file_sha256() == obj.pdf_sha256
