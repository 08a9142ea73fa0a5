"""Shared fixtures: users per role, logged-in clients, the audit-trigger-aware flush, traceability."""

from __future__ import annotations

import contextlib
import os

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import TransactionTestCase

from mes.config import config_cache_clear
from mes.demo_accounts import DEMO_PASSWORD, DEMO_USERS

pytest_plugins = ["tests.traceability", "tests.browser_fixtures", "tests.mail"]


# --- Database roles: the suite runs as the runtime role -------------------------------------
# With DATABASE_OWNER_URL set (CI), test databases are created, migrated and flushed by the owner role,
# and every test runs connected as the runtime role (DATABASE_URL), as the web and workers do.
_RUNTIME_CREDENTIALS: dict = {}


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked `postgres` exercise what only PostgreSQL has (its SQL, its triggers, the installation
    qualification that requires it): on `make test`'s default SQLite they are skipped, saying why; CI
    runs them on PostgreSQL."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (the feature or the test's SQL is PostgreSQL's)")
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


def _connect_default_as(role: str) -> None:
    from django.conf import settings
    from django.db import connections

    owner = settings.MES_DB_OWNER
    conn = connections["default"]
    if not owner or conn.vendor != "postgresql":
        return
    keys = ("USER", "PASSWORD", "HOST", "PORT")
    if not _RUNTIME_CREDENTIALS:
        _RUNTIME_CREDENTIALS.update({key: conn.settings_dict.get(key) for key in keys})
    conn.close()
    if role == "owner":
        conn.settings_dict.update({key: owner[key] for key in keys})
        conn.settings_dict["RUNTIME_USER"] = _RUNTIME_CREDENTIALS["USER"]
    else:
        conn.settings_dict.update(_RUNTIME_CREDENTIALS)
        conn.settings_dict.pop("RUNTIME_USER", None)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The test database is created and migrated by the owner role."""
    _connect_default_as("owner")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Once the test database exists, the tests connect as the runtime role; the owner drops it."""
    _connect_default_as("runtime")
    yield
    _connect_default_as("owner")


# --- Transactional tests: flushing must pass the append-only triggers -----------------------
_original_teardown = TransactionTestCase._fixture_teardown


def _teardown_without_audit_triggers(self):
    """Test-database teardown empties every table; the owner lifts the audit (append-only), retention
    (no delete) and machine readings' (append-only, per partition) triggers for it."""
    from django.db import connections

    from administration.retention import retention_install, retention_lift
    from audit.db import install_append_only, remove_append_only
    from audit.dbroles import as_owner
    from equipment import partitions

    aliases = self._databases_names(include_mirrors=False)
    with contextlib.ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(as_owner(connections[alias]))
        for alias in aliases:
            remove_append_only(connections[alias])
            retention_lift(connections[alias])
            partitions.guards_lift(connections[alias])
        try:
            _original_teardown(self)
        finally:
            for alias in aliases:
                install_append_only(connections[alias])
                retention_install(connections[alias])
                partitions.guards_install(connections[alias])


TransactionTestCase._fixture_teardown = _teardown_without_audit_triggers


# --- Master data under change control: fixtures may lay out plants, tests may not edit them ----------
@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """A fixture sets up master data as a seed does (mes.changecontrol.controlled_writes); the test body
    that then edits a controlled field goes through an approved change request like anyone else."""
    from mes.changecontrol import controlled_writes

    with controlled_writes(f"test fixture {fixturedef.argname}"):
        yield


@pytest.fixture
def owner_connection():
    """For tests that play the database owner (or a superuser tampering): `with owner_connection():`
    reconnects the default connection as the owner role for the block (transactional tests only)."""
    from django.db import connection

    from audit.dbroles import as_owner

    return lambda: as_owner(connection)


@pytest.fixture(autouse=True)
def _own_checkpoint_store(tmp_path, settings):
    """Each test has its own witness file: checkpoints of another test's chain would not match."""
    settings.MES_AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"
    settings.MES_AUDIT_REFUSAL_FILE = tmp_path / "audit-refusals.jsonl"


@pytest.fixture(autouse=True)
def _fresh_configuration_cache():
    """Each test's database starts without approved configuration: forget values cached by another."""
    from mes.config import config_cache_clear

    config_cache_clear(assume_unset=True)
    yield
    config_cache_clear()


# --- Users -----------------------------------------------------------------------------------
def make_user(username: str, role: str | None, *, first: str = "", last: str = ""):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=username,
        password=DEMO_PASSWORD,
        first_name=first or username.title(),
        last_name=last,
        is_staff=role == "admin",
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def users(db):
    """One user per demo username (planner, supervisor, operator, operator2, qc, ...)."""
    return {name: make_user(name, role, first=first, last=last) for name, (first, last, role) in DEMO_USERS.items()}


@pytest.fixture
def password():
    return DEMO_PASSWORD


@pytest.fixture
def client_for(client, users):
    """`client_for("qc")` returns a test client logged in as that demo user."""
    from django.test import Client

    def login(username: str) -> Client:
        c = Client()
        c.force_login(users[username])
        return c

    return login


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English, whatever language an earlier test (or request) activated."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def shared_cache(settings):
    """The production cache (Redis, REDIS_URL of this test run) instead of the tests' LocMem, empty at the
    start and the end; the configuration's per-process copy is dropped too, so values come through it."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("this test needs the Redis server of the test run (REDIS_URL)")
    settings.CACHES = {"default": {"BACKEND": "mes.cache.PlantRedisCache", "LOCATION": url}}
    cache.clear()
    config_cache_clear()
    yield
    cache.clear()
