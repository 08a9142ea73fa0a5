"""Who is acting, and why: context carried from the request or service into the audit trail.

The request middleware records the current request (user, request id, client address); services
wrap their writes in `audit_context(actor=..., action=..., reason=...)` so that every audited save
inside knows the action code and the reason the user gave.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from audit.text_safety import clean_free_text


@dataclass(frozen=True)
class RequestInfo:
    request: Any
    request_id: str
    ip_address: str


@dataclass(frozen=True)
class AuditContext:
    actor: Any
    action: str
    reason: str


_request: ContextVar[RequestInfo | None] = ContextVar("mes_request", default=None)
_audit: ContextVar[AuditContext | None] = ContextVar("mes_audit", default=None)
_transitions: ContextVar[frozenset] = ContextVar("mes_transitions", default=frozenset())


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def request_scope(request: Any, request_id: str, ip_address: str) -> Iterator[None]:
    token = _request.set(RequestInfo(request, request_id, ip_address))
    try:
        yield
    finally:
        _request.reset(token)


def current_request() -> RequestInfo | None:
    return _request.get()


@contextlib.contextmanager
def audit_context(*, actor: Any = None, action: str = "", reason: str = "") -> Iterator[None]:
    """Attribute every audited write inside the block to `actor`, with `action` and `reason`.

    A reason holding an invisible direction-control character is refused (ValidationError) before
    anything is written, so no service, API call or script can store one."""

    clean_free_text(reason)
    outer = _audit.get()
    if outer is not None:
        actor = actor if actor is not None else outer.actor
        reason = reason or outer.reason
    token = _audit.set(AuditContext(actor, action, reason))
    try:
        yield
    finally:
        _audit.reset(token)


def current_audit_context() -> AuditContext | None:
    return _audit.get()


def current_actor() -> Any:
    """The user to attribute a write to: the service's actor, else the request's user, else None."""
    ctx = _audit.get()
    if ctx is not None and ctx.actor is not None:
        return ctx.actor
    info = _request.get()
    if info is not None:
        user = getattr(info.request, "user", None)
        if user is not None and user.is_authenticated:
            return user
    return None


@contextlib.contextmanager
def status_change_allowed(obj: Any) -> Iterator[None]:
    """Let `obj` change its state field inside the block (only the transition mechanism uses it)."""
    key = (type(obj), obj.pk)
    token = _transitions.set(_transitions.get() | {key})
    try:
        yield
    finally:
        _transitions.reset(token)


def is_status_change_allowed(obj: Any) -> bool:
    return (type(obj), obj.pk) in _transitions.get()
