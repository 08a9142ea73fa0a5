"""The real client address behind a load balancer, for the audit trail (who, from where).

Behind HAProxy (deploy/, docs/deployment.md) every request arrives from the balancer's address. The
balancer appends the address it received the request from to X-Forwarded-For. That header is believed
only when the request's peer (REMOTE_ADDR) is one of the configured proxies (MES_TRUSTED_PROXIES:
addresses or networks, comma-separated; empty by default, so the header is ignored). The header is then
read from the right: entries added by trusted proxies are skipped, and the first address a trusted
proxy received a connection from is the client. Anything a client wrote into the header itself lies
to the left of that and is never used; a malformed entry ends the walk at the last trusted hop.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in configured if entry.strip())


def trusted_proxies() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "MES_TRUSTED_PROXIES", ())))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in net for net in networks)


def client_address(meta: dict) -> str:
    """The client's address: REMOTE_ADDR, or from X-Forwarded-For when REMOTE_ADDR is a trusted proxy."""
    peer_text = meta.get("REMOTE_ADDR", "")
    networks = trusted_proxies()
    if not networks or not _trusted(_address(peer_text), networks):
        return peer_text
    client = _address(peer_text)
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            break  # a malformed entry: nothing to its left can be trusted
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
