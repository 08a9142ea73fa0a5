"""Demo integrations: one API account per external system, and a message log with real work
(a dead letter to replay, a refused plan, LIMS results and QMS CAPA decisions: see seed_quality)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.exceptions import ParseError

from integrations.api.parsers import strict_json_loads
from integrations.models import IntegrationAccount, OutboxMessage, OutboxStatus
from integrations.seed_quality import seed_quality_links
from integrations.services import inbox_accept, integration_account_create
from integrations.services.inbox import inbox_fail, inbox_receive

SEED_ORDER = 90

ACCOUNTS = [
    ("erp-link", "erp", ["planner"], "SAP S/4HANA production planning"),
    ("lims-link", "lims", ["qc"], "LabWare LIMS"),
    ("qms-link", "qms", ["qa"], "TrackWise QMS"),
    ("wms-link", "wms", ["warehouse"], "Warehouse management"),
]


def seed(stdout) -> None:
    for username, system, roles, description in ACCOUNTS:
        if not IntegrationAccount.objects.filter(user__username=username).exists():
            # The token is not printed: start-up output ends up in logs and screenshots. A newcomer
            # issues a fresh one when a partner needs it (shown once): see the line written below.
            integration_account_create(
                actor=None, username=username, system=system, roles=roles, description=description
            )
    _seed_outbox()
    _seed_inbox()
    seed_quality_links()
    names = ", ".join(username for username, *_rest in ACCOUNTS)
    stdout.write(
        f"  integrations: {len(ACCOUNTS)} API accounts ({names}); tokens are not printed here. "
        "`manage.py integration_account rotate erp-link` issues a new token and shows it once."
    )


def _seed_outbox() -> None:
    now = timezone.now()
    samples = [
        ("erp", "order_completed", "demo:PO-2026-0001", OutboxStatus.DELIVERED, 1, ""),
        ("wms", "material_requirement", "demo:PO-2026-0002", OutboxStatus.PENDING, 2, "HTTP 503: maintenance window"),
        ("qms", "deviation", "demo:DEV-2026-0007", OutboxStatus.DEAD, 10, "HTTP 502: bad gateway"),
        ("erp", "production_performance", "demo:B-2026-0003", OutboxStatus.DEAD, 10, "no answer within 10 s"),
    ]
    for system, kind, key, status, attempts, error in samples:
        if OutboxMessage.objects.filter(system=system, kind=kind, key=key).exists():
            continue
        OutboxMessage.objects.create(
            system=system,
            kind=kind,
            key=key,
            payload={"reference": key.split(":", 1)[1], "demo": True},
            status=status,
            attempts=attempts,
            last_error=error,
            last_attempt_at=now - timedelta(minutes=5),
            next_attempt_at=now + timedelta(minutes=10),
            delivered_at=now - timedelta(minutes=5) if status == OutboxStatus.DELIVERED else None,
        )


def _seed_inbox() -> None:
    inbox_accept(
        system="erp",
        kind="production_plan",
        message_id="demo:plan-bad",
        payload={"plan_id": "PP-DEMO-BAD", "lines": [{"erp_reference": "4711", "quantity": "-5"}]},
    )
    # Pulled while the ERP link account was revoked: failed in words; an administrator replays it
    # (Integrations › Message log) and the order is created as the ERP's.
    start = timezone.now() + timedelta(days=5)
    inbox_accept(
        system="erp",
        kind="production_plan",
        message_id="demo:plan-revoked",
        actor=None,
        payload={
            "plan_id": "PP-DEMO-REVOKED",
            "lines": [
                {
                    "erp_reference": "4500990",
                    "product_code": "IM-GRN-500",
                    "quantity": "400",
                    "unit": "kg",
                    "planned_start": start.isoformat(),
                    "planned_end": (start + timedelta(hours=12)).isoformat(),
                    "line_code": "L1",
                }
            ],
        },
    )
    # A body the strict JSON parser refused (NaN): kept as text with the reason.
    _seed_refused_json()


def _seed_refused_json() -> None:
    raw = '{"lot_number": "L-DEMO", "quantity": NaN}'
    message, created = inbox_receive(system="wms", kind="stock_status", message_id="demo:stock-nan", raw=raw)
    if not created:
        return
    try:
        strict_json_loads(raw)
    except ParseError as exc:
        inbox_fail(message_id=message.pk, error=ValidationError(str(exc.detail)))
