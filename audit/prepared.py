"""Server-side prepared statements for the audit trail's two statements on PostgreSQL.

Django binds parameters on the client and never prepares, so PostgreSQL parses and plans every
statement anew. The audited save's two statements (row update + chain-head lock; history version +
event + head move, audit.saveround and audit.services) are the same text for every save of a
model, and the second is a data-modifying CTE whose planning is a real part of its cost. They run
through a cursor that binds on the server and prepares on first use (psycopg keeps the prepared
statements per connection). The cursor is wrapped by Django, so execute wrappers and query capture
see them like any other statement.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import connection
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
def audit_cursor():
    """A Django cursor for the audit statements: preparing on PostgreSQL, the usual one elsewhere
    (or when MES_AUDIT_PREPARED_STATEMENTS is off, e.g. behind a pooler that cannot keep them)."""
    if connection.vendor != "postgresql" or not settings.MES_AUDIT_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    conn = connection.connection
    if conn.prepare_threshold is None:
        # Django turns preparing off (None); psycopg then ignores prepare=True too. A threshold no
        # statement reaches keeps it off for every other cursor (Django's bind on the client and
        # cannot prepare anyway) while ours prepare on first use.
        conn.prepare_threshold = _NEVER
    raw = _cursor_class()(conn)
    cursor = _LoggedCursor(raw, connection) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor
