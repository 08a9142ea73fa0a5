"""ERP client: the only code that talks to the ERP (base URL, token and time-out from settings)."""

from __future__ import annotations

from integrations.transport import HttpSession, deliver_message, system_session

SYSTEM = "erp"
# Where each outbound message kind goes on the ERP side.
PATHS = {
    "order_completed": "/mes/order-completions",
    "material_consumed": "/mes/material-consumption",
    "production_performance": "/mes/production-performance",
}


def session() -> HttpSession:
    return system_session(SYSTEM)


def deliver(session: HttpSession, message) -> None:
    deliver_message(session, PATHS.get(message.kind, f"/mes/{message.kind}"), message)


def plans_fetch(*, since: str = "") -> list[dict]:
    """Production plans released in the ERP (since an ERP change stamp, when given)."""
    with session() as s:
        data = s.get_json("/plans", {"since": since} if since else None)
    plans = data.get("plans", []) if isinstance(data, dict) else data
    return [p for p in plans if isinstance(p, dict)]
