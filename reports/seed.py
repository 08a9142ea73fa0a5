"""Demo reports: this month's production report waiting for the supervisor's review, and a
weekly subscription of the supervisor (idempotent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

SEED_ORDER = 90


def seed(stdout=None) -> None:
    from reports.models import Report, Subscription
    from reports.services import report_generate, subscription_create
    from reports.sources import Filters

    today = timezone.localdate()
    supervisor = get_user_model().objects.filter(username="supervisor").first()
    analyst = get_user_model().objects.filter(username="analyst").first()
    if not Report.objects.filter(kind="production").exists():
        report_generate(kind="production", filters=Filters(today.replace(day=1), today), user=analyst)
    if supervisor and not Subscription.objects.filter(user=supervisor).exists():
        subscription_create(
            user=supervisor, kind="production", frequency="weekly", email=supervisor.email or "supervisor@example.com"
        )
    if stdout:
        stdout.write("reports: demo report and subscription\n")
