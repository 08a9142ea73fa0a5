"""Database URLs, including libpq's multi-host form (issue 20: failover without restarting anything).

    postgres://mes_app@10.0.0.1:5432,10.0.0.2:5432/mes?target_session_attrs=read-write

dj-database-url refuses a URL naming several hosts. This module parses such a URL with the first host,
then gives Django the full lists as libpq wants them: HOST "10.0.0.1,10.0.0.2" and PORT "5432,5432"
(psycopg passes both to libpq unchanged). With `target_session_attrs=read-write` every new connection
goes to whichever listed server accepts writes: after the standby is promoted, the next connection of
every web process and Celery task finds the new primary on its own, with no restart.
"""

from __future__ import annotations

import dj_database_url

DEFAULT_PORT = "5432"


def database_url_parse(url: str, **kwargs) -> dict:
    """dj_database_url.parse, also for a multi-host URL (see the module)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    credentials, at, hosts = authority.rpartition("@")
    if not sep or "," not in hosts:
        return dj_database_url.parse(url, **kwargs)
    pairs = [_host_port(item) for item in hosts.split(",")]
    first_host, first_port = pairs[0]
    first = f"[{first_host}]" if ":" in first_host else first_host
    config = dj_database_url.parse(f"{scheme}://{credentials}{at}{first}:{first_port}{slash}{tail}", **kwargs)
    config["HOST"] = ",".join(host for host, _ in pairs)
    config["PORT"] = ",".join(port for _, port in pairs)
    return config


def _host_port(item: str) -> tuple[str, str]:
    """`host[:port]` (an IPv6 address in brackets) -> (host, port), the port defaulting to 5432."""
    if item.startswith("["):
        address, _, after = item[1:].partition("]")
        return address, after.lstrip(":") or DEFAULT_PORT
    host, _, port = item.partition(":")
    return host, port or DEFAULT_PORT
