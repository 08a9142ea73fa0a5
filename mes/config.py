"""The controlled configuration store: the catalogue of parameters, their types, ranges and
defaults, and `config_get`, the one way code reads them (CFG-1).

A foundation service: security, signatures and every app read their parameters here, and nothing
here imports an app. The approved values are rows of the configuration model named by
settings.MES_CONFIG_MODEL (like AUTH_USER_MODEL: "administration.ConfigParameter", whose pages,
change requests and approval are the administration app's); a value changes only through an
approved change request there, which calls `config_invalidate`.

`config_get(name)` returns the approved value, or the settings default. Values are cached and the
cache is invalidated by every approval (when it is saved and again after it commits), so no process
uses a value older than the last committed approval:
- with a shared cache (Redis), under a generation token that the approval replaces;
- otherwise in each process, valid while the generation file under VAR_DIR is unchanged (the
  approval replaces it; every process of a single-host install sees it at the cost of a stat()).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from redis.exceptions import RedisError

from audit.context import current_request
from mes.roles import ROLES


class ParameterType(models.TextChoices):
    INTEGER = "integer", gettext_lazy("Whole number")
    DECIMAL = "decimal", gettext_lazy("Decimal number")
    BOOLEAN = "boolean", gettext_lazy("Yes / no")
    TEXT = "text", gettext_lazy("Text")
    URL = "url", gettext_lazy("Address (URL)")
    ROLES = "roles", gettext_lazy("List of roles")


logger = logging.getLogger("mes.config")
# What a shared cache raises when its server is down (redis-py's errors are not OSError subclasses).
_CACHE_DOWN = (RedisError, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class ParameterDef:
    name: str
    category: str
    label: Any
    value_type: str
    default: Callable[[], Any]
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    unit: str = ""
    help: Any = ""


def _setting(name: str, fallback: Any) -> Callable[[], Any]:
    return lambda: getattr(settings, name, fallback)


D = Decimal
PARAMETERS: list[ParameterDef] = [
    ParameterDef(
        "auth.lockout_threshold",
        "security",
        gettext_lazy("Failed attempts before an account is locked"),
        ParameterType.INTEGER,
        _setting("MES_LOCKOUT_THRESHOLD", 5),
        D(1),
        D(20),
        "",
        gettext_lazy("Failed log-ins or signature attempts in a row."),
    ),
    ParameterDef(
        "auth.alert_threshold",
        "security",
        gettext_lazy("Failed attempts that alert the administrators"),
        ParameterType.INTEGER,
        _setting("MES_ALERT_THRESHOLD", 3),
        D(1),
        D(20),
    ),
    ParameterDef(
        "auth.idle_timeout_minutes",
        "security",
        gettext_lazy("Idle session time-out"),
        ParameterType.INTEGER,
        _setting("MES_IDLE_TIMEOUT_MINUTES", 15),
        D(1),
        D(480),
        "min",
    ),
    ParameterDef(
        "auth.inactive_account_days",
        "security",
        gettext_lazy("Days without log-in before an account is reported inactive"),
        ParameterType.INTEGER,
        _setting("MES_INACTIVE_ACCOUNT_DAYS", 90),
        D(7),
        D(730),
        "d",
    ),
    ParameterDef(
        "auth.signature_full_first",
        "security",
        gettext_lazy("First signing in a session asks user ID and password"),
        ParameterType.BOOLEAN,
        _setting("MES_SIGNATURE_FULL_FIRST", True),
    ),
    ParameterDef(
        "auth.totp_roles",
        "security",
        gettext_lazy("Roles that must use a second factor (TOTP)"),
        ParameterType.ROLES,
        _setting("MES_TOTP_ROLES", ""),
    ),
    ParameterDef(
        "retention.record_years",
        "retention",
        gettext_lazy("Retention of GMP records"),
        ParameterType.INTEGER,
        _setting("MES_RETENTION_YEARS", 5),
        D(5),
        D(50),
        "a",
    ),
    ParameterDef(
        "retention.backup_days",
        "retention",
        gettext_lazy("Keep backups for"),
        ParameterType.INTEGER,
        _setting("MES_BACKUP_RETENTION_DAYS", 30),
        D(1),
        D(3650),
        "d",
    ),
    ParameterDef(
        "retention.readings_months",
        "retention",
        gettext_lazy("Keep machine readings online for"),
        ParameterType.INTEGER,
        _setting("MES_READINGS_RETENTION_MONTHS", 24),
        D(3),
        D(600),
        "mo",
        gettext_lazy("Older months may be retired (manage.py readings_retire) once an archive covers them."),
    ),
    ParameterDef(
        "process.default_tolerance_percent",
        "process",
        gettext_lazy("Default weighing tolerance"),
        ParameterType.DECIMAL,
        _setting("MES_DEFAULT_TOLERANCE_PERCENT", D("2.0")),
        D(0),
        D(20),
        "%",
    ),
    ParameterDef(
        "process.deadband_percent",
        "process",
        gettext_lazy("Deadband of recorded process values"),
        ParameterType.DECIMAL,
        _setting("MES_DEADBAND_PERCENT", D("0.5")),
        D(0),
        D(10),
        "%",
    ),
    ParameterDef(
        "equipment.daily_check_blocks_use",
        "process",
        gettext_lazy("A missing daily equipment check blocks use"),
        ParameterType.BOOLEAN,
        _setting("MES_DAILY_CHECK_BLOCKS_USE", True),
        None,
        None,
        "",
        gettext_lazy("No: a missing daily check of the day is only a warning (a documented, approved choice)."),
    ),
    ParameterDef(
        "integrations.opcua_polling_seconds",
        "integrations",
        gettext_lazy("OPC UA polling interval"),
        ParameterType.INTEGER,
        _setting("MES_OPCUA_POLLING_SECONDS", 5),
        D(1),
        D(3600),
        "s",
    ),
    ParameterDef(
        "integrations.erp_sync_minutes",
        "integrations",
        gettext_lazy("ERP synchronisation interval"),
        ParameterType.INTEGER,
        _setting("MES_ERP_SYNC_MINUTES", 15),
        D(1),
        D(1440),
        "min",
    ),
    ParameterDef(
        "integrations.erp_endpoint",
        "integrations",
        gettext_lazy("ERP endpoint"),
        ParameterType.URL,
        _setting("MES_ERP_URL", ""),
    ),
    ParameterDef(
        "integrations.lims_endpoint",
        "integrations",
        gettext_lazy("LIMS endpoint"),
        ParameterType.URL,
        _setting("MES_LIMS_URL", ""),
    ),
]
BY_NAME = {p.name: p for p in PARAMETERS}


def parameter_def(name: str) -> ParameterDef:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown configuration parameter {name!r}") from None


# --- values ---------------------------------------------------------------------------------
def parse_value(definition: ParameterDef, text: str) -> Any:
    """Text as stored -> the typed value. Raises ValidationError with words a user understands."""
    text = (text or "").strip()
    kind = definition.value_type
    if kind == ParameterType.BOOLEAN:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValidationError(_("Enter yes or no."))
    if kind in (ParameterType.INTEGER, ParameterType.DECIMAL):
        return _parse_number(definition, text)
    if kind == ParameterType.URL:
        if text:
            URLValidator(schemes=["http", "https", "opc.tcp", "mqtt", "mqtts"])(text)
        return text
    if kind == ParameterType.ROLES:
        return _parse_roles(text)
    return text


def _parse_number(definition: ParameterDef, text: str) -> int | Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number."))
    if definition.value_type == ParameterType.INTEGER and number != number.to_integral_value():
        raise ValidationError(_("Enter a whole number."))
    low, high = definition.min_value, definition.max_value
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValidationError(
            _("The value must be between %(low)s and %(high)s.") % {"low": _plain(low), "high": _plain(high)}
        )
    return int(number) if definition.value_type == ParameterType.INTEGER else number


def _parse_roles(text: str) -> tuple[str, ...]:
    codes = tuple(sorted({c.strip() for c in text.replace(";", ",").split(",") if c.strip()}))
    unknown = [c for c in codes if c not in ROLES]
    if unknown:
        raise ValidationError(_("Unknown roles: %(roles)s.") % {"roles": ", ".join(unknown)})
    return codes


def _plain(number: Decimal | None) -> str:
    return "–" if number is None else format(number.normalize(), "f")


def format_value(definition: ParameterDef, value: Any) -> str:
    """A typed value -> the text stored in the database (canonical)."""
    if definition.value_type == ParameterType.BOOLEAN:
        return "true" if value else "false"
    if definition.value_type == ParameterType.DECIMAL:
        return _plain(Decimal(value))
    if definition.value_type == ParameterType.ROLES:
        return ",".join(value) if not isinstance(value, str) else value
    return str(value)


def default_value(definition: ParameterDef) -> Any:
    raw = definition.default()
    if definition.value_type == ParameterType.ROLES and isinstance(raw, str):
        return _parse_roles(raw)
    if definition.value_type == ParameterType.DECIMAL:
        return Decimal(str(raw))
    return raw


# --- reading ----------------------------------------------------------------------------------
_GENERATION_KEY = "mes:config:generation"
_MISSING = object()


def shared_cache() -> bool:
    """A cache all processes share (not the per-process memory cache)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return not backend.endswith(("LocMemCache", "DummyCache"))


def config_get(name: str) -> Any:
    """The value in force for parameter `name`: the approved value, else the settings default.

    Within one web request the first read is kept on the request, so a page sees one consistent
    configuration and pays one query per parameter at most."""
    definition = parameter_def(name)
    memo = _request_memo()
    if memo is not None and name in memo:
        stored = memo[name]
    elif memo is not None and name in PER_PAGE and shared_cache():
        memo.update(_read_many([n for n in PER_PAGE if n not in memo]))
        stored = memo[name]
    else:
        stored = _read(name)
        if memo is not None:
            memo[name] = stored
    if stored is None:
        return default_value(definition)
    return parse_value(definition, stored)


def _request_memo() -> dict | None:
    info = current_request()
    if info is None or info.request is None:
        return None
    memo = getattr(info.request, "_mes_config", None)
    if memo is None:
        memo = {}
        try:
            info.request._mes_config = memo
        except AttributeError:
            return None
    return memo


def _read(name: str) -> str | None:
    if shared_cache():
        try:
            return _shared_read(name)
        except _CACHE_DOWN as exc:
            # The cache is a shortcut, the database the record: pages keep working while Redis is down.
            logger.warning("configuration cache unavailable (%s); reading %s from the database", exc, name)
            return _stored_value(name)
    return _local_read(name)


# Parameters every page reads (the idle time-out: the middleware and the page; the roles that need a
# second factor: its middleware; whether a signature asks for the user ID: the page's signature dialog).
# The first of them a request reads fetches them all in one cache round trip instead of one each.
PER_PAGE = ("auth.idle_timeout_minutes", "auth.totp_roles", "auth.signature_full_first")


def _read_many(names: list[str]) -> dict[str, str | None]:
    try:
        return _shared_read_many(names)
    except _CACHE_DOWN as exc:
        logger.warning("configuration cache unavailable (%s); reading %s from the database", exc, names)
        return {name: _stored_value(name) for name in names}


def _shared_read_many(names: list[str]) -> dict[str, str | None]:
    """Several parameters in one cache round trip: the generation and each value kept with the generation
    it was read under; a value kept under an older generation (an approval since) is read again."""
    keys = {name: f"mes:config:value:{name}" for name in names}
    found = cache.get_many([_GENERATION_KEY, *keys.values()])
    generation = found.get(_GENERATION_KEY)
    if generation is None:
        generation = cache.get_or_set(_GENERATION_KEY, uuid.uuid4().hex, None)
    values = {}
    for name, key in keys.items():
        entry = found.get(key)
        if entry is not None and entry[0] == generation:
            values[name] = entry[1]
        else:
            values[name] = _stored_value(name)
            cache.set(key, (generation, values[name]), 3600)
    return values


def _shared_read(name: str) -> str | None:
    """One cache round trip: the generation and the value kept with the generation it was read under."""
    return _shared_read_many([name])[name]


# Without a shared cache, each process keeps the values it read, valid while the generation file
# (replaced on every approval, see config_invalidate) is the same one: a stat() instead of a query.
_local: dict[str, Any] = {"stamp": _MISSING, "values": {}}


def _generation_file():
    return Path(settings.VAR_DIR) / "config-generation"


def _file_stamp():
    try:
        st = os.stat(_generation_file())
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _local_read(name: str) -> str | None:
    stamp = _file_stamp()
    if stamp != _local["stamp"] or name not in _local["values"]:
        _local["stamp"], _local["values"] = stamp, _stored_values()  # all parameters, one query
    return _local["values"].get(name)


def config_model():
    """The model holding the approved values (settings.MES_CONFIG_MODEL), looked up by name like the
    user model, so the foundation does not import the app that keeps them under change control."""
    return apps.get_model(settings.MES_CONFIG_MODEL, require_ready=False)


def _stored_values() -> dict[str, str | None]:
    values: dict[str, str | None] = dict.fromkeys(BY_NAME)
    for name, value in config_model().objects.filter(is_set=True).values_list("name", "value"):
        values[name] = value
    return values


def _stored_value(name: str) -> str | None:
    row = config_model().objects.filter(name=name).values_list("is_set", "value").first()
    return row[1] if row and row[0] else None


def config_cache_clear(*, assume_unset: bool = False) -> None:
    """Forget this process's cached values. Tests pass `assume_unset`: every test starts from a
    database where no change was ever approved (rolled back or flushed), so all values are defaults."""
    _local["stamp"], _local["values"] = _MISSING, {}
    if shared_cache():
        cache.delete(_GENERATION_KEY)
    elif assume_unset:
        _local["stamp"], _local["values"] = _file_stamp(), dict.fromkeys(BY_NAME)


def config_invalidate() -> None:
    """Called when an approval is saved and again after it commits: every process re-reads."""
    _local["stamp"], _local["values"] = _MISSING, {}
    if shared_cache():
        cache.set(_GENERATION_KEY, uuid.uuid4().hex, None)
        return
    path = _generation_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".config-generation-{uuid.uuid4().hex}")
    tmp.write_text(uuid.uuid4().hex)
    os.replace(tmp, path)  # a new inode: a changed stamp even within the same clock tick


def config_get_or_default(name: str, fallback: Any) -> Any:
    """For code that may run before the tables exist (early migrate): never fails."""
    try:
        return config_get(name)
    except DatabaseError:
        return fallback
