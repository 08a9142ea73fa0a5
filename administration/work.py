"""Home-page work for administrators (alerts, locked accounts, backups, role grants of others) and QA
(changes and role grants to approve, periodic reviews due)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from administration.models import ChangeStatus, ConfigChange, ReviewKind, RoleRequest, RoleRequestStatus
from administration.services.alerts import open_alerts
from administration.services.reviews import review_due
from mes.models import UserSecurity
from mes.permcache import holds
from mes.workqueue import WorkCard


def cards(user) -> list[WorkCard]:
    result: list[WorkCard] = []
    if holds(user, "administration.approve_configchange"):
        pending = ConfigChange.objects.filter(status=ChangeStatus.PROPOSED).exclude(proposed_by=user).count()
        result.append(
            WorkCard(
                _("Configuration changes to approve"),
                pending,
                reverse("administration:change_list"),
                _("Approve or reject with your signature"),
                "warn" if pending else "ok",
            )
        )
    if holds(user, "administration.approve_rolerequest"):
        # never one's own request nor a role for oneself: those wait for someone else
        grants = (
            RoleRequest.objects.filter(status=RoleRequestStatus.PROPOSED)
            .exclude(requested_by=user)
            .exclude(user=user)
            .count()
        )
        if grants:
            result.append(
                WorkCard(
                    _("Role grants to approve"),
                    grants,
                    reverse("administration:role_request_list"),
                    _("A second person approves every GMP role"),
                    "warn",
                )
            )
    if holds(user, "administration.record_review"):
        for kind, url, title in (
            (ReviewKind.ACCESS, "administration:access_review", _("Access review due")),
            (ReviewKind.CONFIGURATION, "administration:config_review", _("Configuration review due")),
        ):
            if review_due(kind):
                result.append(WorkCard(title, 1, reverse(url), _("Every 90 days"), "warn"))
    if holds(user, "administration.view_securityalert"):
        alerts = open_alerts().count()
        result.append(
            WorkCard(
                _("Open security alerts"),
                alerts,
                reverse("administration:alert_list"),
                _("Failed log-ins, signatures, lock-outs"),
                "danger" if alerts else "ok",
            )
        )
        locked = UserSecurity.objects.filter(locked_at__isnull=False).count()
        if locked:
            result.append(
                WorkCard(
                    _("Locked accounts"), locked, reverse("administration:user_list"), _("Check and unlock"), "warn"
                )
            )
    return result
