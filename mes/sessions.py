"""The database session store, reading the session row with one plain statement.

Every request reads its session. Django's store builds an ORM query for it each time, which cost more
CPU than the query itself; this store runs the same statement (same table, same expiry condition, the
database the router names) on a cursor, and writes exactly as Django's store does.
"""

from __future__ import annotations

from typing import NamedTuple

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from audit.prepared import prepared_cursor


class StoredSession(NamedTuple):
    """What `load()` reads of a session row: its encoded data (Django's store decodes nothing else)."""

    session_key: str
    session_data: str


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> StoredSession | None:
        model = self.model
        connection = connections[router.db_for_read(model)]
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {quote('session_key')}, {quote('session_data')} FROM {quote(model._meta.db_table)}"
            f" WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with prepared_cursor(router.db_for_read(model)) as cursor:  # every request: planned once per connection
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return StoredSession(*row)
