"""Fixtures of the integration tests: a real HTTP peer on loopback, API accounts with tokens."""

from __future__ import annotations

import pytest

from tests.integrations.peer import Peer


@pytest.fixture
def peer(settings):
    """One HTTP peer standing in for all four systems (each has its own paths)."""
    with Peer() as server:
        settings.MES_INTEGRATIONS = {
            system: {"base_url": server.url, "token": f"{system}-secret", "timeout": 2.0}
            for system in ("erp", "lims", "qms", "wms")
        }
        settings.MES_OUTBOX_BACKOFF_SECONDS = 0  # retries due at once: tests drive time by sweeping
        yield server


@pytest.fixture
def accounts(users):
    """One integration account per system; returns {system: (account, token)}."""
    from integrations.services import integration_account_create

    roles = {"erp": ["planner"], "lims": ["qc"], "qms": ["qa"], "wms": ["warehouse"]}
    return {
        system: integration_account_create(actor=users["admin"], username=f"{system}-link", system=system, roles=r)
        for system, r in roles.items()
    }


@pytest.fixture
def api_for(accounts):
    """`api_for("erp")`: a test client that sends the ERP account's token."""
    from django.test import Client

    def make(system: str) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Token {accounts[system][1]}")

    return make


# The orders tests' recipe builder, reused (fixture imported into this conftest).
from tests.orders.conftest import effective_recipe  # noqa: E402, F401


@pytest.fixture
def plant(users):
    """Lines, equipment classes and the demo materials (the materials seed needs the demo users)."""
    import io

    from equipment.seed import seed as seed_equipment
    from materials.seed import seed as seed_materials
    from mes.seed import seed_plant

    seed_plant()
    seed_equipment(io.StringIO())
    seed_materials(io.StringIO())
