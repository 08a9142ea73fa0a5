"""Demo reports: this month's production report waiting for the supervisor's review, a weekly
subscription of the supervisor, and the granulator's speed history of the last shifts, so the SPC
report of its critical parameter has a chart on the first screen (idempotent)."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from equipment.models import EquipmentTag, TagReading
from reports.models import Report, Subscription
from reports.services import report_generate, subscription_create
from reports.sources import Filters

SEED_ORDER = 90


def seed(stdout=None) -> None:
    today = timezone.localdate()
    supervisor = get_user_model().objects.filter(username="supervisor").first()
    analyst = get_user_model().objects.filter(username="analyst").first()
    if not Report.objects.filter(kind="production").exists():
        report_generate(kind="production", filters=Filters(today.replace(day=1), today), user=analyst)
    if supervisor and not Subscription.objects.filter(user=supervisor).exists():
        subscription_create(
            user=supervisor, kind="production", frequency="weekly", email=supervisor.email or "supervisor@example.com"
        )
    readings = _seed_speed_history()
    if stdout:
        stdout.write(f"reports: demo report and subscription; {readings} granulator speed readings\n")


def _seed_speed_history() -> int:
    """Half-hourly impeller speeds of GRAN-101 over the last 36 hours, as its OPC UA server reported
    them before the demo started: in control around 120 rpm, then a shift of nine points above the
    mean and one spike, which the SPC chart flags (Western Electric rules 1 and 2)."""
    tag = EquipmentTag.objects.filter(equipment__code="GRAN-101", key="speed").first()
    if tag is None or TagReading.objects.filter(tag=tag).exists():
        return 0
    rng = random.Random(11)
    now = timezone.now().replace(second=0, microsecond=0)
    readings = []
    for i in range(72):
        value = rng.gauss(120.0, 1.5) + (2.5 if 55 <= i < 64 else 0.0) + (7.0 if i == 66 else 0.0)
        when = now - dt.timedelta(minutes=30 * (72 - i))
        readings.append(TagReading(tag=tag, value=round(value, 1), source_ts=when, server_ts=when, received_at=when))
    TagReading.objects.bulk_create(readings)
    return len(readings)
