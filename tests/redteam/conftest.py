"""Red-team fixtures: a superuser connection to the test database, and the orders' plant fixtures."""

import pytest
from django.conf import settings
from django.db import connection

from tests.orders.conftest import *  # noqa: F403 - plant, recipes and orders to attack


@pytest.fixture(autouse=True)
def _real_roles():
    if connection.vendor != "postgresql" or not settings.MES_DB_OWNER:
        pytest.skip("the insider attacks need PostgreSQL with separate owner and runtime roles (DATABASE_OWNER_URL)")


@pytest.fixture
def superuser():
    """A psycopg connection to the test database as the PostgreSQL superuser `postgres`."""
    import psycopg

    s = connection.settings_dict
    conn = psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user="postgres", dbname=s["NAME"], autocommit=True
    )
    yield conn
    conn.close()


@pytest.fixture
def runtime():
    """A psycopg connection as the application's runtime role, as someone holding its credentials has."""
    import psycopg

    s = connection.settings_dict
    conn = psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"], autocommit=True
    )
    yield conn
    conn.close()
