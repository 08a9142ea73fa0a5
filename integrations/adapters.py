"""The adapter of each external system: integrations/<system>/ with `client` (the only module
that talks to the system), `mapping` (MES records <-> messages, and INBOUND handlers per kind)
and `tasks` (the Celery tasks of that link)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

ADAPTER_PACKAGES = {
    "erp": "integrations.erp",
    "lims": "integrations.lims",
    "qms": "integrations.qms",
    "wms": "integrations.wms",
    "equipment": "integrations.mqtt",
}


@dataclass(frozen=True)
class Adapter:
    system: str
    client: ModuleType
    mapping: ModuleType


def adapter(system: str) -> Adapter:
    try:
        package = ADAPTER_PACKAGES[system]
    except KeyError:
        raise LookupError(f"no adapter for system {system!r}") from None
    return Adapter(
        system,
        importlib.import_module(f"{package}.client"),
        importlib.import_module(f"{package}.mapping"),
    )
