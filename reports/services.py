"""Report services: generate, review (signed), distribute by e-mail, subscriptions and their schedule."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.context import audit_context
from batches.models import Batch
from mes.generated import localized
from mes.languages import recipients_by_language
from mes.workflow import transition_apply
from reports import builders, pdf, sources
from reports.models import (
    REPORT_MACHINE,
    Distribution,
    DistributionStatus,
    Frequency,
    Report,
    ReportFile,
    ReportKind,
    ReportStatus,
    Subscription,
)
from reports.sources import Filters

SEND_HOUR = 6  # scheduled reports go out at 06:00 local time


def _store(*, data: builders.ReportData, user, batch=None) -> Report:
    now = timezone.now()
    version = sources.data_version()
    header = pdf.report_header(data, generated_at=timezone.localtime(now), data_version=version)
    content = pdf.render_pdf(data, header)
    with transaction.atomic(), audit_context(actor=user, action="reports.report.generate"):
        report = Report.objects.create(
            kind=data.kind,
            title=(data.record_title or str(data.title))[:200],
            period_start=data.filters.start,
            period_end=data.filters.end,
            filters=data.filters.as_dict(),
            batch=batch,
            generated_at=now,
            generated_by=user,
            data_version=version,
            pdf_sha256=hashlib.sha256(content).hexdigest(),
            pdf_size=len(content),
        )
        ReportFile.objects.create(report=report, content=content)
    return report


def report_generate(*, kind: str, filters: Filters, user=None) -> Report:
    """Compute a report from the records now, render its PDF and keep both (hash on the record)."""
    if kind not in builders.BUILDERS:
        raise ValidationError(_("This report type cannot be generated for a period."))
    if filters.end < filters.start:
        raise ValidationError(_("The end of the period is before its start."))
    return _store(data=builders.build(kind, filters), user=user)


def report_generate_for_batch(*, batch_id: int, user=None) -> Report:
    """The production report of a closed batch (BAT-15); generated once, later calls return it.

    Batch execution calls this (through the task) when a batch closes; see reports/signals.py.
    """
    existing = Report.objects.filter(kind=ReportKind.BATCH, batch_id=batch_id).first()
    if existing:
        return existing
    batch = Batch.objects.select_related("product", "line").get(pk=batch_id)
    try:
        return _store(data=builders.batch_report(batch), user=user, batch=batch)
    except IntegrityError:  # generated concurrently by another worker
        return Report.objects.get(kind=ReportKind.BATCH, batch_id=batch_id)


def report_review(*, user, report_id: int, password: str, reason: str = "") -> Report:
    """A supervisor checks the report against the records and signs it "reviewed" (REP-3)."""

    def guard(report: Report) -> None:
        content = ReportFile.objects.get(report=report).content
        if hashlib.sha256(bytes(content)).hexdigest() != report.pdf_sha256:
            raise ValidationError(_("The report file does not match its recorded checksum; it cannot be signed."))

    return transition_apply(
        model=Report,
        pk=report_id,
        machine=REPORT_MACHINE,
        name="review",
        user=user,
        reason=reason,
        password=password,
        guard=guard,
        changes={"reviewed_by": user, "reviewed_at": timezone.now()},
    )


def _review_line(report: Report) -> str:
    if report.status == ReportStatus.REVIEWED:
        return gettext("Reviewed and signed by %(user)s at %(time)s.") % {
            "user": report.reviewed_by.get_full_name() or report.reviewed_by.get_username(),
            "time": timezone.localtime(report.reviewed_at).strftime("%Y-%m-%d %H:%M"),
        }
    return gettext("Generated automatically; not reviewed.")


def _distribution_body(report: Report) -> str:
    return "\n".join(
        [
            localized(report.title),
            gettext("Period: %(start)s – %(end)s") % {"start": report.period_start, "end": report.period_end},
            gettext("Data version: audit trail entry %(seq)s") % {"seq": report.data_version},
            gettext("PDF SHA-256: %(hash)s") % {"hash": report.pdf_sha256},
            _review_line(report),
        ]
    )


def report_distribute(*, report: Report, recipients: list[str], user=None, subscription=None) -> Distribution:
    """E-mail the report's PDF as an attachment and log the distribution, sent or failed.

    A person distributes only a reviewed report; a subscription sends what the schedule generated
    and the message says it was not reviewed.
    """
    if subscription is None and report.status != ReportStatus.REVIEWED:
        raise ValidationError(_("A report is distributed only after a supervisor has reviewed and signed it."))
    recipients = [r.strip() for r in recipients if r.strip()]
    if not recipients:
        raise ValidationError(_("Enter at least one e-mail address."))
    content = bytes(report.file.content)
    status, error = DistributionStatus.SENT, ""
    try:
        for language, addresses in recipients_by_language(recipients).items():
            with translation.override(language):  # each recipient reads the covering text in his language
                message = EmailMessage(
                    subject=f"[MES] {localized(report.title)}",
                    body=_distribution_body(report),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=addresses,
                )
                message.attach(f"report-{report.pk}.pdf", content, "application/pdf")
                message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any SMTP failure is logged, not lost
        status, error = DistributionStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic(), audit_context(actor=user, action=f"reports.report.distribute.{status}"):
        return Distribution.objects.create(
            report=report,
            subscription=subscription,
            recipients=", ".join(recipients),
            status=status,
            error=error,
            sent_at=timezone.now(),
            sent_by=user,
        )


def next_run(frequency: str, after: dt.datetime) -> dt.datetime:
    """The next send time strictly after `after`: tomorrow, next Monday or the 1st of next month, 06:00."""
    local = timezone.localtime(after)
    day = local.date()
    if frequency == Frequency.DAILY:
        target = day + dt.timedelta(days=1)
    elif frequency == Frequency.WEEKLY:
        target = day + dt.timedelta(days=7 - day.weekday())
    else:
        target = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    candidate = dt.datetime.combine(day, dt.time(SEND_HOUR))
    if frequency == Frequency.DAILY and timezone.make_aware(candidate) > after:
        target = day
    return timezone.make_aware(dt.datetime.combine(target, dt.time(SEND_HOUR)))


def _clean_subscription(kind: str, frequency: str, email: str) -> None:
    if kind not in builders.BUILDERS:
        raise ValidationError(_("Choose a report type."))
    if frequency not in Frequency.values:
        raise ValidationError(_("Choose a schedule."))
    if not email:
        raise ValidationError(_("Enter the e-mail address the report goes to."))


def subscription_create(*, user, kind: str, frequency: str, email: str, filters: dict | None = None) -> Subscription:
    """Subscribe `user` to a report type on a schedule (audited)."""
    _clean_subscription(kind, frequency, email)
    with transaction.atomic(), audit_context(actor=user, action="reports.subscription.create"):
        return Subscription.objects.create(
            user=user,
            kind=kind,
            frequency=frequency,
            email=email,
            filters=filters or {},
            next_run_at=next_run(frequency, timezone.now()),
        )


def subscription_update(
    *, user, subscription_id: int, frequency: str, email: str, active: bool, filters: dict | None = None
) -> Subscription:
    """Change a subscription (only its owner); the audit event keeps old and new values."""
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription_id)
        if sub.user_id != user.pk:
            raise ValidationError(_("You can change only your own subscriptions."))
        _clean_subscription(sub.kind, frequency, email)
        if frequency != sub.frequency or (active and not sub.active):
            sub.next_run_at = next_run(frequency, timezone.now())
        sub.frequency, sub.email, sub.active = frequency, email, active
        if filters is not None:
            sub.filters = filters
        with audit_context(actor=user, action="reports.subscription.update"):
            sub.save()
    return sub


def subscriptions_run_due(*, now: dt.datetime | None = None) -> list[Distribution]:
    """Generate and e-mail every active subscription whose time has come (the beat task calls this).

    Each subscription is claimed under a row lock and its next run moved forward first, so two
    beat processes never send the same report twice.
    """
    now = now or timezone.now()
    sent = []
    due = list(Subscription.objects.filter(active=True, next_run_at__lte=now).values_list("pk", flat=True))
    for pk in due:
        with transaction.atomic():
            sub = Subscription.objects.select_for_update(skip_locked=True).filter(pk=pk, next_run_at__lte=now).first()
            if sub is None:
                continue
            sub.last_run_at = now
            sub.next_run_at = next_run(sub.frequency, now)
            with audit_context(action="reports.subscription.run"):
                sub.save()
        start, end = builders.default_period(sub.frequency, timezone.localtime(now).date())
        f = sub.filters or {}
        report = report_generate(
            kind=sub.kind, filters=Filters(start, end, f.get("product", ""), f.get("line", "")), user=None
        )
        sent.append(report_distribute(report=report, recipients=[sub.email], subscription=sub))
    return sent
