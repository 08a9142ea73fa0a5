"""One audited save of a GMP record in four round trips instead of six (issue 2: an audited save
costs at most 2x an unaudited one, whose BEGIN, UPDATE and COMMIT are three).

An audited update used to run: BEGIN; UPDATE the row; INSERT its simple-history version; SELECT
the chain head FOR UPDATE; INSERT the event and move the head (one CTE); COMMIT. Now:
- the row UPDATE and the chain-head lock are one statement (`SaveRound.update_and_lock`): the
  head is locked only once the row is updated (the lock order stays row, then head, as before);
- the history version is inserted by the audit event's CTE (audit.history).
So: BEGIN; UPDATE row + lock head; INSERT version + INSERT event + move head; COMMIT. The chain is
still extended under the head's row lock, held by the inserting transaction until it commits.

The head read with the row is used only if no other event was appended since (`append_count`):
otherwise `audit_record` reads it again under the lock it already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.sql import UpdateQuery

from audit import services
from audit.prepared import audit_cursor

_UPDATE_AND_LOCK = (
    "WITH upd AS ({update} RETURNING 1), "
    "head AS (SELECT seq, hash FROM audit_chainhead WHERE id = 1 AND EXISTS (SELECT 1 FROM upd) FOR UPDATE) "
    "SELECT (SELECT count(*) FROM upd), (SELECT seq FROM head), (SELECT hash FROM head)"
)


@dataclass
class SaveRound:
    """What one `GMPModel.save` carries between Django's save machinery and the audit event."""

    lock_head: bool  # an event will follow: lock the chain head with the row update
    versions: list = field(default_factory=list)  # audit.history.PendingVersion, not yet inserted
    head: tuple[int, str] | None = None
    appends: int = -1

    def update_and_lock(self, filtered, values) -> bool:
        """Django's `_do_update` for one row (`filtered`), locking the chain head in the same
        statement. Returns whether the row was found, as Django expects."""
        query = filtered.query.chain(UpdateQuery)
        query.add_update_fields(values)
        query.annotations = {}
        sql, params = query.get_compiler(filtered.db).as_sql()
        with audit_cursor() as cursor:
            cursor.execute(_UPDATE_AND_LOCK.format(update=sql), params)
            updated, seq, digest = cursor.fetchone()
        if seq is not None:
            self.head, self.appends = (seq, digest), services.append_count()
        self.lock_head = False  # once per save (a parent table of multi-table inheritance updates plainly)
        return updated > 0

    def locked_head(self) -> tuple[int, str] | None:
        """The head read with the row, if it is still the head (no event appended since)."""
        if self.head is not None and self.appends == services.append_count():
            return self.head
        return None
