"""Failover without restarting (issue 20): a multi-host DATABASE_URL (mes/dburl.py) against a real pair.

The module starts a PostgreSQL 15 primary and its synchronous `pg_basebackup -R` standby with
scripts/cluster.py's own functions, on ports of its own (25482/25483, outside the ephemeral port range, or MES_TEST_PG_FAILOVER_PORTS;
+10 per xdist worker, as tests/foundation/test_dbrouting.py does), and registers the pair as one
`failover` alias parsed from `postgres://...@h:p1,h:p2/mes?target_session_attrs=read-write`. The primary
is then stopped (immediate, as a crash) and the standby promoted: the same Django process writes again
through the same alias, after at most one failure for the request in flight. Skipped only when the
PostgreSQL 15 binaries are not installed.
"""

from __future__ import annotations

import types

import pytest
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connections

from administration.services import backup
from mes.dburl import database_url_parse
from tests.foundation.pgpair import pg_pair

ALIAS = "failover"


def test_a_multi_host_url_gives_libpq_the_host_and_port_lists():
    config = database_url_parse(
        "postgres://mes_app:pw@10.0.0.1:5432,10.0.0.2:5433,[::1]/mes?target_session_attrs=read-write&connect_timeout=2",
        conn_max_age=60,
    )
    assert config["HOST"] == "10.0.0.1,10.0.0.2,::1"
    assert config["PORT"] == "5432,5433,5432"
    assert (config["USER"], config["PASSWORD"], config["NAME"]) == ("mes_app", "pw", "mes")
    assert config["OPTIONS"] == {"target_session_attrs": "read-write", "connect_timeout": 2}
    assert config["CONN_MAX_AGE"] == 60


def test_a_single_host_url_is_parsed_as_before():
    config = database_url_parse("postgres://mes_app@db.plant:6432/mes")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.plant", 6432, "mes")


@pytest.fixture
def pair():
    """A primary and its synchronous streaming standby, as `make cluster` makes them, in a temporary dir."""
    with pg_pair(
        module="mes_cluster_script_failover", ports_variable="MES_TEST_PG_FAILOVER_PORTS",
        default_ports="25482,25483", prefix="mes-pgfailover-",
    ) as made:  # fmt: skip
        yield made


@pytest.fixture
def failover_alias(pair, settings, django_db_blocker):
    """The pair as one alias from a multi-host URL, persistent connections checked before reuse (as the
    settings make `default`)."""
    cluster, primary, replica = pair
    url = f"postgres://postgres@127.0.0.1:{primary},127.0.0.1:{replica}/{cluster.DATABASE}"
    config = database_url_parse(
        f"{url}?target_session_attrs=read-write&connect_timeout=2", conn_max_age=60, conn_health_checks=True
    )
    full = connections.configure_settings({"default": settings.DATABASES["default"], ALIAS: config})[ALIAS]
    connections.settings[ALIAS] = full
    settings.DATABASES = {**settings.DATABASES, ALIAS: full}
    # pytest-django's blocker refuses aliases a test did not list; this one is added after the fact.
    connections[ALIAS].ensure_connection = types.MethodType(
        django_db_blocker._real_ensure_connection, connections[ALIAS]
    )
    yield pair
    connections[ALIAS].close()
    del connections[ALIAS]
    del connections.settings[ALIAS]


def _request_writing(note: str) -> int:
    """What a web request does around a write: Django's request_started / request_finished signals
    (close_old_connections: an unusable connection is closed, a persistent one checked) and an INSERT;
    returns the port of the server that took it."""
    request_started.send(sender=None)
    try:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("INSERT INTO probe (note) VALUES (%s)", [note])
            cursor.execute("SELECT inet_server_port()")
            return cursor.fetchone()[0]
    finally:
        request_finished.send(sender=None)


@pytest.mark.django_db(transaction=True)
def test_after_promotion_the_same_process_writes_to_the_new_primary(failover_alias):
    cluster, primary, replica = failover_alias
    assert _request_writing("before") == primary
    cluster.pg_ctl(primary, "stop", "-m", "immediate")
    cluster._run(
        cluster._as_postgres([str(cluster.PG_BIN / "pg_ctl"), "-D", str(cluster._data_dir(replica)), "promote", "-w"])
    )

    failures = 0
    for attempt in range(2):
        try:
            port = _request_writing(f"after-{attempt}")
            break
        except DatabaseError:
            failures += 1  # the request in flight met the dead connection
    else:
        pytest.fail("no write reached the promoted standby")
    assert port == replica
    assert failures <= 1
    # Synchronous commit: the write acknowledged before the crash is on the new primary.
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT note FROM probe ORDER BY id")
        notes = [row[0] for row in cursor.fetchall()]
    assert notes[0] == "before" and notes[-1].startswith("after-")


def test_backup_and_restore_reach_the_primary_of_a_multi_host_url():
    """pg_dump/pg_restore and the backup's own connections are told to take the writable server."""
    config = database_url_parse(
        "postgres://mes_owner@127.0.0.1:25482,127.0.0.1:25483/mes?target_session_attrs=read-write"
    )
    args, env = backup._pg_params(config)
    assert args[:4] == ["-h", "127.0.0.1,127.0.0.1", "-p", "25482,25483"]
    assert env["PGTARGETSESSIONATTRS"] == "read-write"
    assert "PGTARGETSESSIONATTRS" not in backup._pg_params(database_url_parse("postgres://u@h:5432/mes"))[1]
