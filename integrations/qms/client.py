"""QMS client: the only code that talks to the QMS."""

from __future__ import annotations

from integrations.transport import HttpSession, deliver_message, system_session

SYSTEM = "qms"
PATHS = {"deviation": "/mes/deviations", "quality_event": "/mes/quality-events"}


def session() -> HttpSession:
    return system_session(SYSTEM)


def deliver(session: HttpSession, message) -> None:
    deliver_message(session, PATHS.get(message.kind, f"/mes/{message.kind}"), message)
