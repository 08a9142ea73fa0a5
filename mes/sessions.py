"""The database session store, reading the session row with one plain statement.

Every request reads its session. Django's store builds an ORM query for it each time, which cost more
CPU than the query itself; this store runs the same statement (same table, same expiry condition, the
database the router names) through a raw query set, and writes exactly as Django's store does.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        model = self.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {quote('session_key')}, {quote('session_data')}, {quote('expire_date')}"
            f" FROM {quote(model._meta.db_table)} WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        found = list(model._default_manager.db_manager(alias).raw(sql, [self.session_key, now]))
        if not found:
            self._session_key = None
            return None
        return found[0]
