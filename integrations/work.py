"""Home-page cards: dead letters and failed inbound messages waiting for an administrator."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from integrations.models import InboxMessage, InboxStatus, OutboxMessage, OutboxStatus
from mes.permcache import holds
from mes.workqueue import WorkCard


def cards(user) -> list[WorkCard]:
    if not holds(user, "integrations.view_message_log"):
        return []
    url = reverse("integrations:message_list")
    dead = OutboxMessage.objects.filter(status=OutboxStatus.DEAD).count()
    failed = InboxMessage.objects.filter(status=InboxStatus.FAILED).count()
    return [
        WorkCard(
            _("Undelivered messages (dead letters)"),
            dead,
            f"{url}?direction=outbox&status=dead",
            _("Fix the cause, then replay."),
            "danger" if dead else "ok",
        ),
        WorkCard(
            _("Inbound messages that failed"),
            failed,
            f"{url}?direction=inbox&status=failed",
            _("Refused messages from ERP, LIMS, QMS or WMS."),
            "warn" if failed else "ok",
        ),
    ]
