"""Reads of read-only pages from the streaming replica; everything else from the primary.

With DATABASE_REPLICA_URL set (docs/deployment.md, scripts/cluster.py) the settings add a `replica`
database alias and this module's router and middleware. Without it nothing here has any effect: every
query goes to the primary (`default`).

A request reads from the replica only when all of these hold:
- its view is marked read-only (`mes_replica_reads = True` on the view function or class: the
  `replica_reads` decorator, or a plain attribute an app below mes sets itself — audit does not import
  mes, so mes/urls.py marks audit's trail views where it includes them);
- it is a GET or HEAD;
- the browser carries no read-your-writes pin: every POST (PUT, PATCH, DELETE) answer sets a cookie for
  MES_READ_YOUR_WRITES_SECONDS, so the next pages on any node read the primary and show what was just
  written even if the replica has not replayed it yet;
- the replica's replay lag is below MES_REPLICA_MAX_LAG_SECONDS (measured on the replica at most once per
  MES_REPLICA_LAG_CHECK_SECONDS per process; a replica that does not answer is left alone for
  MES_REPLICA_RETRY_SECONDS);
- nothing has been written in this request and no transaction is open on the primary: from the first
  write (or atomic block) on, the rest of the request reads the primary, so nothing reads its own write
  from the replica.
Users, groups, permissions, sessions, second factors and API tokens are always read from the primary.

A query that fails on the replica (replica stopped, connection lost) fails the view; the middleware
marks the replica unavailable and runs the view again on the primary. That is safe because a view only
reads the replica before its first write: the failed attempt wrote nothing.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.utils.cache import patch_vary_headers

log = logging.getLogger(__name__)

REPLICA = "replica"
PIN_COOKIE = "mes_rw_pin"
SAFE_METHODS = frozenset({"GET", "HEAD"})

# Per request (each gunicorn thread its own): "replica" while the request may read the replica.
_reads_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("mes_reads_from", default=None)


def replica_reads(view):
    """Mark a view as read-only: its GET/HEAD requests may read from the replica (see the module)."""
    view.mes_replica_reads = True
    return view


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def marked(view) -> bool:
    return bool(
        getattr(view, "mes_replica_reads", False)
        or getattr(getattr(view, "view_class", None), "mes_replica_reads", False)
    )


class _Health:
    """The replica's last measured lag per process, so a request costs no extra query."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked = float("-inf")  # never measured (monotonic time may be small after a boot)
        self.lag: float | None = None  # None: unavailable
        self.down_until = 0.0

    def mark_down(self) -> None:
        with self.lock:
            self.lag, self.down_until = None, time.monotonic() + settings.MES_REPLICA_RETRY_SECONDS

    def reset(self) -> None:
        with self.lock:
            self.checked, self.lag, self.down_until = float("-inf"), None, 0.0

    def usable(self) -> bool:
        now = time.monotonic()
        if now < self.down_until:
            return False
        if now - self.checked >= settings.MES_REPLICA_LAG_CHECK_SECONDS:
            lag = replica_lag_seconds()
            with self.lock:
                self.checked, self.lag = now, lag
                if lag is None:
                    self.down_until = now + settings.MES_REPLICA_RETRY_SECONDS
        return self.lag is not None and self.lag <= settings.MES_REPLICA_MAX_LAG_SECONDS


health = _Health()

# Seconds since the last transaction the replica replayed, or 0 when it has replayed all it received
# (an idle primary sends nothing, so "time since the last replay" alone would grow without a write).
# WAL waiting to be replayed by a standby that has replayed no transaction since it started has no
# measurable lag: unknown counts as too far behind (infinity), never as caught up.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
                          'Infinity'::float8) END
"""


def replica_lag_seconds() -> float | None:
    """The replica's replay lag in seconds; None when it does not answer or is no longer a standby
    (promoted: reading it as a replica could read a diverged copy)."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError as exc:
        log.warning("replica unavailable: %s", exc.__class__.__name__)
        _discard_replica_connection()
        return None
    return float(lag) if in_recovery else None


def _discard_replica_connection() -> None:
    try:
        connections[REPLICA].close()
    except DatabaseError:
        pass


# Who may do what is never read from a copy that may be seconds old: a revoked permission, a locked
# account or a revoked API token must hold on the next request.
PRIMARY_ONLY = frozenset({"auth", "sessions", "guardian", "otp_totp", "otp_static", "django_otp"})
PRIMARY_ONLY_MODELS = frozenset({"integrations.integrationaccount"})


def _primary_only(model) -> bool:
    return model is not None and (
        model._meta.app_label in PRIMARY_ONLY or model._meta.label_lower in PRIMARY_ONLY_MODELS
    )


def reads_from() -> str:
    """Where the current request reads now: 'replica' or 'default'."""
    if _reads_from.get() == REPLICA and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads to the replica while the request may, writes always to the primary
    (and from then on every read of the request too); migrations only on the primary."""

    def db_for_read(self, model, **hints):
        return DEFAULT_DB_ALIAS if _primary_only(model) else reads_from()

    def db_for_write(self, model, **hints):
        _reads_from.set(None)  # the rest of the request reads its own writes
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaRoutingMiddleware:
    """Decides per request whether it may read the replica, pins a browser to the primary after its
    writes, and retries a view on the primary when the replica fails under it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _reads_from.set(None)
        try:
            response = self.get_response(request)
        finally:
            used = getattr(request, "mes_read_from", DEFAULT_DB_ALIAS)
            _reads_from.reset(token)
        if request.method not in SAFE_METHODS and replica_configured():
            seconds = settings.MES_READ_YOUR_WRITES_SECONDS
            response.set_cookie(
                PIN_COOKIE, "1", max_age=seconds, httponly=True, samesite="Lax", secure=request.is_secure()
            )
        if settings.MES_DB_ROUTING_HEADER and replica_configured():
            response["X-MES-Read-From"] = used
            patch_vary_headers(response, ("Cookie",))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            replica_configured()
            and request.method in SAFE_METHODS
            and marked(view_func)
            and PIN_COOKIE not in request.COOKIES
            and health.usable()
        ):
            _reads_from.set(REPLICA)
            request.mes_read_from = REPLICA
            request.mes_view = (view_func, view_args, view_kwargs)
        return None

    def process_exception(self, request, exception):
        if getattr(request, "mes_read_from", None) != REPLICA:
            return None
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning("replica query failed (%s): the view runs again on the primary", exception.__class__.__name__)
        health.mark_down()
        _discard_replica_connection()
        _reads_from.set(None)
        request.mes_read_from = DEFAULT_DB_ALIAS
        view_func, view_args, view_kwargs = request.mes_view
        response = view_func(request, *view_args, **view_kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        return response
