"""`make cluster` listens only on ports no client connection can hold: below the kernel's ephemeral range
(where the local end of any outgoing connection may take a port, so a server started later meets
"Address already in use", as the cluster's PostgreSQL on 55432 did) and clear of the test pairs."""

from __future__ import annotations

from pathlib import Path

from tests.foundation.pgpair import cluster_module

EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def test_every_cluster_port_is_below_the_ephemeral_range_and_used_once():
    cluster = cluster_module("mes_cluster_script_ports")
    ports = [*cluster.WEB_PORTS, cluster.PRIMARY_PORT, cluster.REPLICA_PORT, cluster.STATS_PORT, cluster.LB_PORT]
    first_ephemeral = int(EPHEMERAL.read_text().split()[0]) if EPHEMERAL.exists() else 32768
    assert max(ports) < min(first_ephemeral, 32768)
    assert len(set(ports)) == len(ports)
    # The tests' own PostgreSQL pairs and HAProxy (25380-25493 with up to 4 xdist workers) are elsewhere.
    assert not [port for port in ports if 25380 <= port <= 25493]
