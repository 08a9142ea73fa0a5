"""A PostgreSQL 15 primary and its streaming standby for a test, made with scripts/cluster.py's own
functions in a temporary directory (the routing and failover tests).

Ports come from an environment variable or a default outside the kernel's ephemeral range
(32768-60999), where one of the suite's own client connections may hold a port; each xdist worker
adds 10, so two workers never share a pair."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def cluster_module(name: str):
    """scripts/cluster.py as a module of its own (its globals are set per pair)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ports(variable: str, default: str) -> tuple[int, int]:
    primary, replica = (int(p) for p in os.environ.get(variable, default).split(","))
    offset = 10 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    return primary + offset, replica + offset


@contextlib.contextmanager
def pg_pair(*, module: str, ports_variable: str, default_ports: str, prefix: str):
    """(cluster module, primary port, replica port): a table `probe` on both; stopped and removed after."""
    cluster = cluster_module(module)
    primary, replica = _ports(ports_variable, default_ports)
    for port in (primary, replica):
        if cluster._port_open(port):
            pytest.fail(f"port {port} is in use (a running `make cluster`? stop it first)")
    root = Path(tempfile.mkdtemp(prefix=prefix))
    cluster.VAR, cluster.LOGS, cluster.RUN = root, root / "log", root / "run"
    cluster.PRIMARY_PORT, cluster.REPLICA_PORT = primary, replica
    cluster.LOGS.mkdir(parents=True)
    try:
        cluster.pg_init_primary()
        cluster.psql(primary, "CREATE TABLE probe (id serial PRIMARY KEY, note text)", database=cluster.DATABASE)
        cluster.pg_make_replica(primary, replica)  # ends with synchronous commit on
        yield cluster, primary, replica
    finally:
        for port in (replica, primary):
            if cluster.pg_running(port):
                cluster.pg_ctl(port, "stop", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)
