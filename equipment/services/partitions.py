"""Partition maintenance of machine readings (issue 20; PostgreSQL, a no-op on SQLite).

The beat creates the current month's partition and the next three ahead of time, so readings land in
their month and a time-range query reads one partition. A month that already has rows in DEFAULT (the
partition was missing when they came: beat stopped, a machine clock far ahead) is created all the same
and its rows are moved out of DEFAULT in the same transaction, audited with their count. Moving is what
a plant wants: refusing would leave the month in DEFAULT, unprunable and not retirable, until someone
acted, while the rows themselves are unchanged by the move (same ids, same values).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from audit.services import audit_record
from equipment import partitions

MONTHS_AHEAD = 3


def reading_partitions_ensure(*, today: dt.date | None = None, months_ahead: int = MONTHS_AHEAD, actor=None) -> dict:
    """Create the missing monthly partitions from this month to `months_ahead` months on (idempotent).

    Returns {partition name: rows moved out of DEFAULT} for the partitions created."""
    if not partitions.is_partitioned(connection):
        return {}
    month = partitions.month_start(today or timezone.now().astimezone(dt.UTC).date())
    created: dict[str, int] = {}
    for _ in range(months_ahead + 1):
        with transaction.atomic():
            moved = partitions.partition_ensure(connection, month)
            if moved >= 0:
                name = partitions.partition_name(month)
                created[name] = moved
                audit_record(
                    action="equipment.reading_partition_created",
                    actor=actor,
                    object_type="equipment.tagreading",
                    object_id=name,
                    new={"month": f"{month:%Y-%m}", "moved_from_default": moved},
                )
        month = partitions.next_month(month)
    return created
