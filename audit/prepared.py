"""Server-side prepared statements on PostgreSQL: the audit trail's statements and the per-request
key lookups of the operator's screens.

Django binds parameters on the client and never prepares, so PostgreSQL parses and plans every
statement anew. Measured under the capacity load (pg_stat_statements), planning was about half of
PostgreSQL's CPU: the step screen's step with its batch, product and equipment took 1.3 ms to plan and
0.2 ms to run. The statements that run on every request with the same text (the audited save's two
statements, the session, the permission map, the step screen's records, the entry a value locks) run
through a cursor that binds on the server and prepares on first use: psycopg keeps the prepared
statements per connection (its `prepared_max`), and PostgreSQL plans each once per connection. Only
statements whose plan does not depend on the values (a key, a foreign key) are sent this way: a
report's date range is planned for its values, as before. The cursor is wrapped by Django, so execute
wrappers and query capture see them like any other statement.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper


@functools.cache
def _cursor_class():
    class PreparingCursor(psycopg.Cursor):
        """Server-side binding; prepared on first execution unless told otherwise."""

        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)

    return PreparingCursor


class _LoggedCursor(CursorDebugWrapper):
    """Django's query log for a prepared statement: psycopg keeps no client-side text of a prepared
    execution (Django's usual source), so the statement is composed from its SQL and parameters."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


_NEVER = 2**31 - 1


@contextmanager
def prepared_cursor(alias: str = DEFAULT_DB_ALIAS):
    """A Django cursor on database `alias` whose statements PostgreSQL prepares on first use; the usual
    cursor elsewhere, or when MES_PREPARED_STATEMENTS is off (behind a pooler in transaction mode, which
    cannot keep prepared statements). For statements whose plan does not depend on their values."""
    wrapper = connections[alias]
    if wrapper.vendor != "postgresql" or not settings.MES_PREPARED_STATEMENTS:
        with wrapper.cursor() as cursor:
            yield cursor
        return
    wrapper.ensure_connection()
    conn = wrapper.connection
    if conn.prepare_threshold is None:
        # Django turns preparing off (None); psycopg then ignores prepare=True too. A threshold no
        # statement reaches keeps it off for every other cursor (Django's bind on the client and
        # cannot prepare anyway) while ours prepare on first use.
        conn.prepare_threshold = _NEVER
    raw = _cursor_class()(conn)
    cursor = _LoggedCursor(raw, wrapper) if wrapper.queries_logged else wrapper.make_cursor(raw)
    with cursor:
        yield cursor


def audit_cursor():
    """The cursor of the audit statements (the default database: the primary)."""
    return prepared_cursor(DEFAULT_DB_ALIAS)
