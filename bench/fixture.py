"""Benchmark fixtures load GMP rows in bulk with raw SQL, not through the application.

The database refuses such writes from the application (each GMP row must come with its audit event,
audit/db.py), so a fixture load runs as the database superuser the bench connects as, with triggers off
for its statements (`session_replication_role = replica`), and puts them back after.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection


@contextmanager
def fixture_cursor():
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
