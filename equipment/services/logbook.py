"""The equipment logbook: one line per event, written inside the caller's transaction.

Its own module because status, PM, maintenance, monitoring and balance services all write it, and
the status service itself calls the PM service: here it depends on nothing but the model."""

from __future__ import annotations

from equipment.models import Equipment, LogbookEntry


def logbook_write(*, equipment: Equipment, kind: str, text: str, user=None, **fields) -> LogbookEntry:
    """Append one logbook line (inside the caller's transaction)."""
    return LogbookEntry.objects.create(equipment=equipment, kind=kind, text=text[:2000], user=user, **fields)
