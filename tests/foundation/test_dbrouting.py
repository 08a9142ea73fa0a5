"""Read routing against a real streaming replica (mes/dbrouting.py).

The module starts a PostgreSQL 15 primary and a `pg_basebackup -R` standby of it (ports 25432/25433, or
MES_TEST_PG_PAIR_PORTS: outside the kernel's ephemeral range 32768-60999, where a client connection of
the suite may hold the port) with scripts/cluster.py's own functions, and registers the
standby as the `replica` alias for the test. The views below answer which server ran their query
(`inet_server_port()`), so each test sees where a read really went: the test database (default) or the
standby. Skipped only when the PostgreSQL 15 binaries are not installed.
"""

from __future__ import annotations

import time
import types

import dj_database_url
import pytest
from django.db import connection, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from mes import dbrouting
from mes.dbrouting import PIN_COOKIE, REPLICA, ReplicaRouter, ReplicaRoutingMiddleware, replica_reads
from tests.foundation.pgpair import PG_BIN, pg_pair

pytestmark = [
    pytest.mark.skipif(not (PG_BIN / "pg_basebackup").exists(), reason="PostgreSQL 15 binaries not installed"),
    # The default database is the replica's primary: read routing to a streaming replica is PostgreSQL's.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the primary of a streaming replica is PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


# Django's test case (and pytest-django's blocker) replace ensure_connection on the class while a test
# runs, refusing aliases the test did not list: the replica alias is added by the fixture, after the test
# case was built. pytest-django keeps the real method.
_REAL = {}


@pytest.fixture(autouse=True)
def _real_ensure_connection(django_db_blocker):
    _REAL["ensure_connection"] = django_db_blocker._real_ensure_connection


def _allow(connection) -> None:
    connection.ensure_connection = types.MethodType(_REAL["ensure_connection"], connection)


@pytest.fixture(scope="module")
def pair():
    """A primary and its streaming standby, as `make cluster` makes them, in a temporary directory."""
    with pg_pair(
        module="mes_cluster_script", ports_variable="MES_TEST_PG_PAIR_PORTS", default_ports="25432,25433",
        prefix="mes-pgpair-",
    ) as made:  # fmt: skip
        yield made


@pytest.fixture
def replica_alias(pair, settings):
    """The standby as the `replica` alias, the router on, health measured afresh."""
    cluster, primary, replica = pair
    if not cluster.pg_running(replica):
        cluster.pg_ctl(replica, "start")
        cluster.wait_until(lambda: cluster.replica_state(primary) == "streaming", 30, "replica streaming")
    config = dj_database_url.parse(f"postgres://postgres@127.0.0.1:{replica}/{cluster.DATABASE}")
    config["OPTIONS"] = {"connect_timeout": 2}
    full = connections.configure_settings({"default": settings.DATABASES["default"], REPLICA: config})[REPLICA]
    connections.settings[REPLICA] = full
    settings.DATABASES = {**settings.DATABASES, REPLICA: full}
    _allow(connections[REPLICA])
    settings.DATABASE_ROUTERS = ["mes.dbrouting.ReplicaRouter"]
    settings.MES_REPLICA_LAG_CHECK_SECONDS = 0
    settings.MES_REPLICA_MAX_LAG_SECONDS = 5
    settings.MES_DB_ROUTING_HEADER = True
    dbrouting.health.reset()
    yield pair
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    dbrouting.health.reset()


def _server_port(alias: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        return cursor.fetchone()[0]


def _where_reads_go() -> int:
    """The port of the server the router sends a read to now (a model read would go the same way)."""
    from audit.models import AuditEvent

    return _server_port(ReplicaRouter().db_for_read(AuditEvent))


@replica_reads
def report_view(request):
    return HttpResponse(str(_where_reads_go()))


def plain_view(request):
    return HttpResponse(str(_where_reads_go()))


@replica_reads
def report_that_writes(request):
    before = _where_reads_go()
    with transaction.atomic():
        _server_port(ReplicaRouter().db_for_write(None))
    return HttpResponse(f"{before},{_where_reads_go()}")


def _run(view, request):
    middleware = ReplicaRoutingMiddleware(lambda req: _dispatch(middleware, view, req))
    return middleware(request)


def _dispatch(middleware, view, request):
    middleware.process_view(request, view, (), {})
    try:
        return view(request)
    except Exception as exc:  # noqa: BLE001 - as Django's handler: the middleware may answer instead
        response = middleware.process_exception(request, exc)
        if response is None:
            raise
        return response


def _default_port() -> int:
    return _server_port("default")


def test_marked_get_reads_the_replica_and_others_the_primary(replica_alias):
    _, _, replica = replica_alias
    request = RequestFactory().get("/reports/")
    response = _run(report_view, request)
    assert int(response.content) == replica
    assert response["X-MES-Read-From"] == REPLICA
    assert int(_run(plain_view, RequestFactory().get("/batches/")).content) == _default_port()
    # Outside a request nothing reads the replica.
    assert _where_reads_go() == _default_port()


def test_a_write_in_the_request_sends_the_rest_to_the_primary(replica_alias):
    _, _, replica = replica_alias
    before, after = _run(report_that_writes, RequestFactory().get("/reports/")).content.decode().split(",")
    assert int(before) == replica
    assert int(after) == _default_port()


def test_post_pins_the_browser_to_the_primary(replica_alias):
    response = _run(plain_view, RequestFactory().post("/batches/"))
    assert response.cookies[PIN_COOKIE]["max-age"] == 10
    pinned = RequestFactory().get("/reports/")
    pinned.COOKIES[PIN_COOKIE] = "1"
    assert int(_run(report_view, pinned).content) == _default_port()


def _replay_paused(cluster, replica) -> None:
    cluster.psql(replica, "SELECT pg_wal_replay_pause()", database=cluster.DATABASE)
    paused = "SELECT pg_get_wal_replay_pause_state()"  # a pause is requested, then takes effect
    cluster.wait_until(lambda: cluster.psql(replica, paused) == "paused", 10, "replay paused")


def _replicated_write(cluster, primary, replica, note: str) -> None:
    """A row written on the primary and seen on the replica: the replica has replayed a transaction."""
    cluster.psql(primary, f"INSERT INTO probe (note) VALUES ('{note}')", database=cluster.DATABASE)
    seen = f"SELECT count(*) FROM probe WHERE note = '{note}'"
    cluster.wait_until(lambda: cluster.psql(replica, seen, database=cluster.DATABASE) != "0", 10, "replayed")


def test_lag_above_the_bound_reads_the_primary(replica_alias, settings):
    cluster, primary, replica = replica_alias
    assert dbrouting.replica_lag_seconds() is not None
    # The lag is measured from the last replayed transaction's commit time: have one replayed first
    # (a standby that has replayed none since it started has no figure; see the next test).
    _replicated_write(cluster, primary, replica, "replayed")
    _replay_paused(cluster, replica)
    try:
        # With replay paused a synchronous commit still returns (the standby flushed it), but the
        # replica does not show it.
        cluster.psql(primary, "INSERT INTO probe (note) VALUES ('behind')", database=cluster.DATABASE)
        time.sleep(2.2)
        lag = dbrouting.replica_lag_seconds()
        assert lag is not None and 2 <= lag < 3600
        settings.MES_REPLICA_MAX_LAG_SECONDS = 1
        assert int(_run(report_view, RequestFactory().get("/reports/")).content) == _default_port()
    finally:
        cluster.psql(replica, "SELECT pg_wal_replay_resume()", database=cluster.DATABASE)
    settings.MES_REPLICA_MAX_LAG_SECONDS = 5
    caught_up = lambda: (lag := dbrouting.replica_lag_seconds()) is not None and lag < 1  # noqa: E731
    cluster.wait_until(caught_up, 20, "replica caught up")
    assert int(_run(report_view, RequestFactory().get("/reports/")).content) == replica


def test_unknown_lag_counts_as_behind(replica_alias, settings):
    """A standby restarted with WAL still to replay and no transaction replayed since it started
    has no lag figure (no replay timestamp): it is not read as caught up."""
    cluster, primary, replica = replica_alias
    # A checkpoint the standby has replayed becomes its restart point: on restart it replays from
    # there, which holds no transaction, so it starts with no replay timestamp.
    cluster.psql(primary, "CHECKPOINT")
    _replicated_write(cluster, primary, replica, "before the checkpoint")
    cluster.psql(primary, "CHECKPOINT")
    target = cluster.psql(primary, "SELECT pg_current_wal_lsn()")
    replayed = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
    cluster.wait_until(lambda: cluster.psql(replica, replayed) == "t", 10, "checkpoint replayed")
    cluster.pg_ctl(replica, "restart", "-m", "fast")
    cluster.wait_until(lambda: cluster.replica_state(primary) == "streaming", 30, "replica streaming")
    dbrouting.health.reset()
    connections[REPLICA].close()
    _replay_paused(cluster, replica)
    try:
        cluster.psql(primary, "INSERT INTO probe (note) VALUES ('unreplayed')", database=cluster.DATABASE)
        assert dbrouting.replica_lag_seconds() == float("inf")
        assert int(_run(report_view, RequestFactory().get("/reports/")).content) == _default_port()
    finally:
        cluster.psql(replica, "SELECT pg_wal_replay_resume()", database=cluster.DATABASE)
    cluster.wait_until(lambda: dbrouting.replica_lag_seconds() == 0, 20, "replica caught up")


def test_replica_stopped_mid_flight_the_view_runs_again_on_the_primary(replica_alias, settings):
    cluster, primary, replica = replica_alias
    settings.MES_REPLICA_LAG_CHECK_SECONDS = 3600  # measured healthy once, then not asked again
    assert int(_run(report_view, RequestFactory().get("/reports/")).content) == replica
    cluster.pg_ctl(replica, "stop", "-m", "immediate")
    response = _run(report_view, RequestFactory().get("/reports/"))
    assert response.status_code == 200
    assert int(response.content) == _default_port()
    assert response["X-MES-Read-From"] == "default"
    # Marked down: the next request goes straight to the primary, no failed attempt first.
    assert int(_run(report_view, RequestFactory().get("/reports/")).content) == _default_port()


def test_a_promoted_standby_is_not_read_as_a_replica(pair):
    cluster, primary, replica = pair
    # Sanity of the measure itself on the real servers: a primary is not in recovery.
    config = dj_database_url.parse(f"postgres://postgres@127.0.0.1:{primary}/{cluster.DATABASE}")
    with override_settings():
        full = connections.configure_settings({"default": config, REPLICA: config})[REPLICA]
        connections.settings[REPLICA] = full
        _allow(connections[REPLICA])
        try:
            assert dbrouting.replica_lag_seconds() is None
        finally:
            connections[REPLICA].close()
            del connections[REPLICA]
            del connections.settings[REPLICA]


def test_audit_trail_views_are_marked_from_mes_urls():
    from django.urls import resolve

    for path in ("/audit/", "/audit/export.csv", "/reports/", "/api/v1/batches/"):
        assert dbrouting.marked(resolve(path).func), path
    assert not dbrouting.marked(resolve("/batches/").func)
