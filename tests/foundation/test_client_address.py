"""The audit trail records the client's real address behind a load balancer, and only a configured
proxy is believed: a client that writes X-Forwarded-For itself is recorded under its own address.

The last test goes through a real HAProxy on loopback with `make cluster`'s own configuration
(scripts/cluster.py: it connects to the node from 127.0.0.2, the trusted proxy, drops the client's
X-Forwarded-For and writes its own); its front end listens on 25380 (+10 per xdist worker, or
MES_TEST_HAPROXY_PORT), outside the kernel's ephemeral port range. Skipped only without haproxy."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from audit.models import AuditEvent
from mes.clientaddr import client_address
from tests.foundation.pgpair import cluster_module

pytestmark = pytest.mark.django_db(transaction=True)


def _login_event(username: str) -> AuditEvent:
    return AuditEvent.objects.filter(action="auth.login", object_repr__icontains=username).latest("seq")


def _login(client, password: str, **headers) -> None:
    response = client.post("/accounts/login/", {"username": "qa", "password": password}, **headers)
    assert response.status_code == 302


def test_the_balancers_forwarded_address_is_recorded(settings, users, client, password):
    settings.MES_TRUSTED_PROXIES = ["10.0.0.0/24"]
    _login(client, password, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.44")
    assert _login_event("qa").ip_address == "192.0.2.44"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(settings, users, client, password):
    settings.MES_TRUSTED_PROXIES = ["10.0.0.0/24"]
    _login(client, password, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.9, 192.0.2.1")
    assert _login_event("qa").ip_address == "198.51.100.7"


def test_without_configured_proxies_the_header_is_never_believed(settings, users, client, password):
    settings.MES_TRUSTED_PROXIES = []
    _login(client, password, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.44")
    assert _login_event("qa").ip_address == "10.0.0.5"


def test_addresses_a_client_prepends_through_the_balancer_are_not_used(settings):
    """The client sends "X-Forwarded-For: 1.2.3.4"; the balancer appends the real peer: the rightmost
    untrusted entry is the client, whatever was written to its left."""
    settings.MES_TRUSTED_PROXIES = ["10.0.0.0/24", "10.1.0.1"]
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9, 10.1.0.1"}
    assert client_address(meta) == "203.0.113.9"  # two balancers in a row, both skipped
    assert client_address({**meta, "HTTP_X_FORWARDED_FOR": "1.2.3.4, not-an-address, 10.1.0.1"}) == "10.1.0.1"
    assert client_address({"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "[2001:db8::7]:5123"}) == "2001:db8::7"
    assert client_address({"REMOTE_ADDR": "10.0.0.5"}) == "10.0.0.5"  # no header: the proxy itself


def test_a_spoofed_header_over_real_http_is_ignored(settings, live_server, users, password):
    """Against the live server on loopback: the peer (127.0.0.1) is not a configured proxy."""
    settings.MES_TRUSTED_PROXIES = ["10.0.0.0/8"]
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(f"{live_server.url}/accounts/login/").read().decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    body = f"csrfmiddlewaretoken={token}&username=qa&password={password}".encode()
    request = urllib.request.Request(
        f"{live_server.url}/accounts/login/",
        data=body,
        headers={"X-Forwarded-For": "192.0.2.200", "Referer": f"{live_server.url}/accounts/login/"},
    )
    opener.open(request)
    assert _login_event("qa").ip_address == "127.0.0.1"


@pytest.fixture
def balancer(live_server, settings):
    """HAProxy as `make cluster` configures it, in front of the live server: (cluster module, HAProxy's
    port, the node's port)."""
    cluster = cluster_module("mes_cluster_script_balancer")
    offset = 10 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    port = int(os.environ.get("MES_TEST_HAPROXY_PORT", "25380")) + offset
    if cluster._port_open(port) or cluster._port_open(port + 1):
        pytest.fail(f"port {port} or {port + 1} is in use")
    settings.MES_TRUSTED_PROXIES = [f"{cluster.PROXY_SOURCE}/32"]  # as the cluster's nodes have it
    root = Path(tempfile.mkdtemp(prefix="mes-haproxy-"))
    config = root / "haproxy.cfg"
    node = int(live_server.url.rsplit(":", 1)[1])
    config.write_text(cluster.haproxy_config(lb=port, stats=port + 1, admin=root / "admin.sock", nodes=[node]))
    with open(root / "haproxy.log", "wb") as log:
        process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        cluster.STATS_PORT = port + 1
        cluster.wait_until(lambda: cluster.haproxy_servers().get(f"node{node}") == "UP", 30, "node UP in HAProxy")
        yield cluster, port, node
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _failed_login_address(username: str) -> str:
    return AuditEvent.objects.get(action="auth.login_failed", username=username).ip_address


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_through_a_real_haproxy_the_client_is_recorded_and_forged_headers_are_not(balancer, users):
    cluster, port, node = balancer
    # From 127.0.0.5 through HAProxy, with an X-Forwarded-For of the client's own making.
    assert cluster._failed_login(port, "via-haproxy", source="127.0.0.5", forged="10.6.6.6") == 200
    assert _failed_login_address("via-haproxy") == "127.0.0.5"
    # Straight to the node from 127.0.0.1, forging a header that names the proxy: not believed.
    forged = f"{cluster.PROXY_SOURCE}, 10.6.6.6"
    assert cluster._failed_login(node, "straight-to-node", source="127.0.0.1", forged=forged) == 200
    assert _failed_login_address("straight-to-node") == "127.0.0.1"
