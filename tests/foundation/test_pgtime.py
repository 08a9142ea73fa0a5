"""Timestamps read from PostgreSQL are parsed by psycopg's C loader (mes.pgtime), with the values
Django's own pure-Python loader gave: the same instants, labelled with the connection's time zone."""

from __future__ import annotations

import pytest
from django.db import connection
from psycopg.types.datetime import TimestamptzLoader

from mes import pgtime

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's loaders: PostgreSQL only"),
]

INSTANTS = [
    "2026-12-06 09:35:20.123456+00",
    "2026-03-29 01:30:00+02",  # another offset: the session's zone (UTC) is what is read back
    "1969-07-20 20:17:40+00",
    "2000-02-29 23:59:59.999999-08",
]


def test_timestamps_are_parsed_in_c_with_the_values_djangos_loader_gave():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t::timestamptz, (t::timestamptz)::text FROM unnest(%s::text[]) WITH ORDINALITY AS x(t, n) ORDER BY n",
            [INSTANTS],
        )
        rows = cursor.fetchall()
        loader = cursor.cursor.adapters.get_loader(pgtime._TIMESTAMPTZ, 0)
        python = TimestamptzLoader(pgtime._TIMESTAMPTZ, cursor.cursor)
    assert issubclass(loader, pgtime._CTimestamptzLoader) and loader.timezone is connection.timezone
    assert not pgtime._C_LOADER.__module__.startswith("psycopg.types")  # the C implementation
    for value, text in rows:
        expected = python.load(text.encode()).replace(tzinfo=connection.timezone)  # Django's BaseTzLoader
        assert value == expected and value.tzinfo is expected.tzinfo and value.isoformat() == expected.isoformat()


def test_an_orm_read_gives_aware_utc_datetimes(users):
    from django.contrib.auth import get_user_model

    joined = get_user_model().objects.values_list("date_joined", flat=True).first()
    assert joined.tzinfo is connection.timezone and joined.utcoffset().total_seconds() == 0
