"""Home-page card: validation reports waiting for QA's approval."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mes.permcache import holds
from mes.workqueue import WorkCard


def cards(user) -> list[WorkCard]:
    from validation.models import ValidationReport, ValidationStatus

    if not holds(user, "validation.approve_validationreport"):
        return []
    n = ValidationReport.objects.filter(status=ValidationStatus.GENERATED).count()
    return [
        WorkCard(_("Validation reports to approve"), n, reverse("validation:report_list"),
                 _("read the IQ/OQ/PQ report and sign it"), "warn" if n else "ok")
    ]  # fmt: skip
