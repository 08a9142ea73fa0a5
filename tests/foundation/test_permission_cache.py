"""The permission caches (mes/permcache.py) never outlive a change: a role or an object grant revoked
while the user is signed in is honoured on their next request, with the shared (Redis) cache live."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_cache(settings):
    """The production cache (Redis, REDIS_URL of this test run) instead of the tests' LocMem."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("these tests need the Redis server of the test run (REDIS_URL)")
    settings.CACHES = {"default": {"BACKEND": "mes.cache.PlantRedisCache", "LOCATION": url}}
    cache.clear()
    yield
    cache.clear()


def test_role_permissions_are_served_from_the_shared_cache(shared_cache, users, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mes.permcache import shared_cache as is_shared

    assert is_shared()
    planner = client_for("planner")
    assert planner.get("/orders/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert planner.get("/orders/").status_code == 200
    sql = " ".join(q["sql"] for q in second.captured_queries)
    assert "auth_group_permissions" not in sql  # the role permissions came from the cache
    assert cache.get(f"mes:perm:user:{users['planner'].pk}") is not None


def test_a_role_removed_mid_session_is_refused_on_the_next_request(shared_cache, users, client_for, password):
    from administration.services.users import user_set_roles

    planner = client_for("planner")
    assert planner.get("/orders/").status_code == 200
    assert planner.get("/orders/").status_code == 200  # now cached
    user_set_roles(
        actor=users["admin"], user_id=users["planner"].pk, roles=[], password=password, reason="left the company"
    )
    assert planner.get("/orders/").status_code == 403
