"""WMS client: the only code that talks to the WMS."""

from __future__ import annotations

from integrations.transport import HttpSession, deliver_message, system_session

SYSTEM = "wms"
PATHS = {
    "material_requirement": "/mes/material-requirements",
    "consumption_confirmation": "/mes/consumption-confirmations",
}


def session() -> HttpSession:
    return system_session(SYSTEM)


def deliver(session: HttpSession, message) -> None:
    deliver_message(session, PATHS.get(message.kind, f"/mes/{message.kind}"), message)
