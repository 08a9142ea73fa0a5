"""Shared fixtures: users per role, logged-in clients, the audit-trigger-aware flush, traceability."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import TransactionTestCase

from mes.demo_accounts import DEMO_PASSWORD, DEMO_USERS

pytest_plugins = ["tests.traceability", "tests.browser_fixtures"]


# --- Transactional tests: flushing must pass the append-only triggers -----------------------
_original_teardown = TransactionTestCase._fixture_teardown


def _teardown_without_audit_triggers(self):
    """Test-database teardown empties every table; the owner lifts the audit (append-only) and
    retention (no delete) triggers for it."""
    from django.db import connections

    from administration.retention import retention_install, retention_lift
    from audit.db import install_append_only, remove_append_only

    for alias in self._databases_names(include_mirrors=False):
        remove_append_only(connections[alias])
        retention_lift(connections[alias])
    try:
        _original_teardown(self)
    finally:
        for alias in self._databases_names(include_mirrors=False):
            install_append_only(connections[alias])
            retention_install(connections[alias])


TransactionTestCase._fixture_teardown = _teardown_without_audit_triggers


@pytest.fixture(autouse=True)
def _fresh_configuration_cache():
    """Each test's database starts without approved configuration: forget values cached by another."""
    from administration.parameters import config_cache_clear

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
