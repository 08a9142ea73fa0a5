"""Home-page cards: lots waiting for QC, lots expiring soon, blocked lots, batches to dispense."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from materials.batch_source import batches
from materials.models import Lot, LotStatus
from mes.permcache import holds
from mes.workqueue import WorkCard

SOON_DAYS = 30


def cards(user) -> list[WorkCard]:
    found: list[WorkCard] = []
    if not holds(user, "materials.view_lot"):
        return found
    lots = reverse("materials:lot_list")
    today = timezone.localdate()
    if holds(user, "materials.release_lot") or holds(user, "materials.receive_lot"):
        n = Lot.objects.filter(status=LotStatus.QUARANTINE, expiry_date__gte=today).count()
        found.append(
            WorkCard(
                _("Lots in quarantine"),
                n,
                f"{lots}?status=quarantine",
                _("waiting for QC release"),
                "warn" if n else "ok",
            )
        )
    if holds(user, "materials.receive_lot") or holds(user, "materials.block_lot"):
        soon = Lot.objects.filter(
            status__in=[LotStatus.RELEASED, LotStatus.QUARANTINE],
            expiry_date__gte=today,
            expiry_date__lte=today + dt.timedelta(days=SOON_DAYS),
        ).count()
        found.append(
            WorkCard(
                _("Lots expiring within 30 days"),
                soon,
                f"{lots}?expires_within={SOON_DAYS}",
                _("use first or plan disposal"),
                "warn" if soon else "ok",
            )
        )
        expired = (
            Lot.objects.filter(expiry_date__lt=today, balances__quantity__gt=0)
            .exclude(status__in=[LotStatus.CONSUMED, LotStatus.REJECTED])
            .distinct()
            .count()
        )
        found.append(
            WorkCard(
                _("Expired lots in stock"),
                expired,
                f"{lots}?status=expired",
                _("move to the rejected cage and dispose"),
                "danger" if expired else "ok",
            )
        )
    if holds(user, "materials.unblock_lot"):
        n = Lot.objects.filter(status=LotStatus.BLOCKED).count()
        found.append(
            WorkCard(
                _("Blocked lots"), n, f"{lots}?status=blocked", _("investigate and decide"), "danger" if n else "ok"
            )
        )
    if holds(user, "materials.issue_material"):
        n = batches().filter(status__in=["ready", "in_progress"]).count()
        found.append(
            WorkCard(
                _("Batches to dispense"), n, reverse("materials:issue_batches"), _("scan lots into the batch"), "info"
            )
        )
    return found
