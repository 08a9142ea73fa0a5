"""Demo administration data: one approved configuration change, one waiting for QA, an alert, and
a role grant request waiting for a second person (segregation of duties)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from administration.models import AlertKind, ConfigChange, ConfigParameter, RoleRequest, SecurityAlert
from administration.services.alerts import alert_raise
from administration.services.config import config_change_approve, config_propose
from administration.services.parameters import parameters_sync
from administration.services.roles import role_request_create
from mes.seed import DEMO_PASSWORD

SEED_ORDER = 90


def seed(stdout) -> None:
    parameters_sync()
    _seed_role_request(stdout)
    if ConfigChange.objects.exists():
        return
    users = get_user_model().objects
    admin, qa = users.get(username="admin"), users.get(username="qa")
    tolerance = ConfigParameter.objects.get(name="process.default_tolerance_percent")
    done = config_propose(
        user=admin,
        parameter_id=tolerance.pk,
        new_value="1.5",
        reason="Tighter default weighing tolerance after the balance upgrade (change control CC-2026-014).",
    )
    config_change_approve(user=qa, change_id=done.pk, password=DEMO_PASSWORD, reason="Verified against SOP-QA-031.")
    idle = ConfigParameter.objects.get(name="auth.idle_timeout_minutes")
    config_propose(
        user=admin,
        parameter_id=idle.pk,
        new_value="10",
        reason="Shorter idle time-out on shared shop-floor tablets (audit finding AF-2026-03).",
    )
    if not SecurityAlert.objects.exists():
        alert_raise(
            kind=AlertKind.FAILED_LOGINS, username="operator2", attempts=3, detail="3 failed attempts in a row."
        )
    stdout.write("  administration: 2 configuration change requests (1 effective, 1 waiting for QA), 1 alert")


def _seed_role_request(stdout) -> None:
    """The administrator asks that the data analyst cover QC reviews; QA (or a second administrator)
    approves it on the Role grant requests page. The demo admin holds only the administrator role."""

    if RoleRequest.objects.exists():
        return
    users = get_user_model().objects
    role_request_create(
        actor=users.get(username="admin"),
        user_id=users.get(username="analyst").pk,
        role="qc",
        reason="Covers QC record review during the annual leave of the QC reviewer (training TR-204 done).",
    )
    stdout.write("  administration: 1 role grant request waiting for QA or a second administrator")
