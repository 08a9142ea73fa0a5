"""LIMS client: the only code that talks to the LIMS."""

from __future__ import annotations

from integrations.transport import HttpSession, deliver_message, system_session

SYSTEM = "lims"
PATHS = {"test_request": "/mes/test-requests", "sample": "/mes/samples"}


def session() -> HttpSession:
    return system_session(SYSTEM)


def deliver(session: HttpSession, message) -> None:
    deliver_message(session, PATHS.get(message.kind, f"/mes/{message.kind}"), message)
