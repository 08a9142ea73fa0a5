"""Where the demo's OPC UA simulator looks for faults asked for on demand (`manage.py opcua_fault`,
the equipment admin's action): a folder under the var directory, one request file per equipment."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def fault_request_dir() -> Path:
    return Path(settings.VAR_DIR) / "opcua-simulator" / "fault-requests"
