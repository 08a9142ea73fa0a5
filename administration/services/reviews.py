"""Periodic reviews (CFG-3 configuration, access review): the reviewer signs that the review was done."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from administration.models import PeriodicReview, ReviewKind
from audit.context import audit_context
from audit.models import SignatureMeaning
from audit.signatures import signature_check_password, signature_create
from mes.workflow import user_may

REVIEW_INTERVAL_DAYS = 90


def review_record(
    *, user, kind: str, period_start: dt.date, period_end: dt.date, findings: str, password: str, summary=None
) -> PeriodicReview:
    """Record and sign (meaning: reviewed) a periodic review of access or configuration."""
    if not user_may(user, "administration.record_review"):
        raise PermissionDenied(_("You may not sign periodic reviews."))
    if kind not in ReviewKind.values:
        raise ValidationError(_("Unknown review."))
    if period_start > period_end:
        raise ValidationError(_("The period starts after it ends."))
    findings = (findings or "").strip()
    if not findings:
        raise ValidationError(_("Write the findings of the review (or “no findings”)."))
    signature_check_password(user=user, password=password, purpose=f"administration.review.{kind}")
    with transaction.atomic(), audit_context(actor=user, action=f"administration.periodicreview.{kind}"):
        review = PeriodicReview.objects.create(
            kind=kind,
            period_start=period_start,
            period_end=period_end,
            findings=findings,
            reviewer=user,
            reviewed_at=timezone.now(),
            summary=summary or {},
        )
        signature_create(
            signer=user,
            obj=review,
            meaning=SignatureMeaning.REVIEWED,
            reason=findings,
            action=f"administration.periodicreview.{kind}",
        )
    return review


def review_due(kind: str) -> bool:
    """True when no review of this kind was signed in the last REVIEW_INTERVAL_DAYS."""
    last = PeriodicReview.objects.filter(kind=kind).order_by("-reviewed_at").values_list("reviewed_at", flat=True)
    last = last.first()
    return last is None or timezone.now() - last > dt.timedelta(days=REVIEW_INTERVAL_DAYS)
