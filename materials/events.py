"""What the materials app announces (mes.events), inside the transaction of the change, and the
checks other apps register to veto a lot's release."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from mes.events import DomainEvent

lot_status_changed = DomainEvent(
    "lot_status_changed", "A lot was released, rejected, blocked or otherwise changed status.", fields=("lot",)
)
material_consumed = DomainEvent(
    "material_consumed", "Material was issued from a lot into a batch (a ledger entry).", fields=("entry",)
)
lot_created = DomainEvent(
    "lot_created",
    "A lot came into stock: received from a supplier or recorded as a batch's output (still in quarantine).",
    fields=("lot", "user"),
)

# Who may veto a lot's release, and why (in words): each check returns the reasons, empty when the lot
# may be released. The quality app registers its inspection and deviation check (MAT-3).
_RELEASE_CHECKS: list[Callable[[Any], list[str]]] = []


def lot_release_check_register(check: Callable[[Any], list[str]]) -> None:
    if check not in _RELEASE_CHECKS:
        _RELEASE_CHECKS.append(check)


def lot_release_vetoes(lot) -> list[str]:
    """Every registered check's reasons why `lot` may not be released now (empty when it may).
    Without any check (the quality app missing) no lot is released: MAT-3 fails closed."""
    if not _RELEASE_CHECKS:
        raise ImproperlyConfigured("no lot release check is registered (is the quality app installed?)")
    return [problem for check in _RELEASE_CHECKS for problem in check(lot)]
