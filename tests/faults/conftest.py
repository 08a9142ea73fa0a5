"""The fault scenarios run the product as deployed: on PostgreSQL (the private cluster of the
database-restart scenario is a copy of the test database; workers and web share it)."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("fault scenarios run on PostgreSQL (set DATABASE_URL), as a plant deployment does")
