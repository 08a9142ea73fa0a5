"""The audit trail records the client's real address behind a load balancer, and only a configured
proxy is believed: a client that writes X-Forwarded-For itself is recorded under its own address."""

from __future__ import annotations

import urllib.request

import pytest

from audit.models import AuditEvent
from mes.clientaddr import client_address

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
