"""The ERP plan pull: fetch released plans and accept each through the inbox (once per plan)."""

from __future__ import annotations

import logging

from integrations.erp import client
from integrations.models import IntegrationAccount, System
from integrations.services.inbox import inbox_accept
from integrations.transport import DeliveryError, NotConfigured

logger = logging.getLogger("integrations.erp")


def _erp_actor():
    """Pulled plans are attributed to the ERP's integration account (else to the system)."""
    account = IntegrationAccount.objects.select_related("user").filter(system=System.ERP, active=True).first()
    return account.user if account else None


def erp_plans_pull() -> dict:
    """Fetch plans from the ERP; each plan is one inbox message keyed by its plan id (and revision)."""
    try:
        plans = client.plans_fetch()
    except NotConfigured:
        return {"status": "not configured"}
    except DeliveryError as exc:
        logger.warning("ERP plan pull failed: %s", exc)
        return {"status": "failed", "error": str(exc)}
    actor = _erp_actor()
    counts: dict[str, int] = {}
    for plan in plans:
        message_id = f"plan:{plan.get('plan_id', '')}:{plan.get('revision', 0)}"
        message = inbox_accept(
            system=System.ERP, kind="production_plan", message_id=message_id, payload=plan, actor=actor
        )
        counts[message.status] = counts.get(message.status, 0) + 1
    return {"status": "ok", "plans": len(plans), **counts}
