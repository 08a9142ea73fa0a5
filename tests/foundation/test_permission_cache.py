"""The permission caches (mes/permcache.py) never outlive a change: a role or an object grant revoked
while the user is signed in is honoured on their next request, with the shared (Redis) cache live."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_holds_answers_as_has_perm_for_every_permission(users):
    """permcache.holds (the menu, the work cards, user_may) gives Django's has_perm answer for every
    permission of every role, a superuser, an inactive user and a permission granted to the user alone."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from mes.permcache import holds

    every = [f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")]
    model = get_user_model()
    special = model.objects.create_user("perm-special", password="x-Long-Password-1")
    special.user_permissions.add(Permission.objects.get(codename="view_lot"))
    model.objects.create_superuser("perm-super", password="x-Long-Password-1")
    inactive = model.objects.create_user("perm-inactive", password="x-Long-Password-1", is_active=False)
    inactive.groups.add(*users["qa"].groups.all())
    names = [*users, "perm-special", "perm-super", "perm-inactive"]
    for name in names:
        fresh, reference = model.objects.get(username=name), model.objects.get(username=name)
        differing = [p for p in every if holds(fresh, p) != reference.has_perm(p)]
        assert differing == [], name
    assert holds(model.objects.get(username="perm-special"), "materials.view_lot")
    assert not holds(model.objects.get(username="perm-inactive"), "quality.view_capa")


def test_holds_through_a_lazy_request_user_answers_as_the_user(users):
    """The request's user is a SimpleLazyObject: holds reads the user it wraps (set up on first use)
    and gives the same answers, keeping its permission set on that user."""
    from django.contrib.auth import get_user_model
    from django.utils.functional import SimpleLazyObject, empty

    from mes.permcache import holds

    model = get_user_model()
    for name in ("qa", "operator", "planner"):
        lazy = SimpleLazyObject(lambda name=name: model.objects.get(username=users[name].username))
        reference = model.objects.get(username=users[name].username)
        assert lazy._wrapped is empty
        perms = ["batches.execute_batch", "quality.view_capa", "materials.view_lot", "no.such_perm"]
        assert [holds(lazy, p) for p in perms] == [reference.has_perm(p) for p in perms], name
        assert lazy._wrapped is not empty and hasattr(lazy._wrapped, "_mes_all_perms")


def test_a_permission_granted_in_the_same_request_is_seen(users):
    """A service that changes a grant and asks again in the same process gets the new answer."""
    from django.contrib.auth.models import Permission

    from mes.permcache import holds

    planner = users["planner"]
    assert not holds(planner, "materials.block_lot")
    planner.user_permissions.add(Permission.objects.get(codename="block_lot"))
    assert holds(planner, "materials.block_lot")
    planner.user_permissions.clear()
    assert not holds(planner, "materials.block_lot")


def test_objects_granted_matches_guardian(users):
    """mes.workflow.objects_granted selects the records guardian's get_objects_for_user selects
    (accept_global_perms=False): the user's own grants and their groups', none through a role."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm, get_objects_for_user

    from mes.workflow import objects_granted

    one, two, three = (Group.objects.create(name=f"grant-target-{n}") for n in range(3))
    operator = users["operator"]
    assign_perm("auth.change_group", operator, one)
    assign_perm("auth.change_group", operator.groups.first(), two)
    assign_perm("auth.delete_group", operator, three)
    fresh = get_user_model().objects.get(pk=operator.pk)
    mine = objects_granted(fresh, "auth.change_group", Group.objects.filter(name__startswith="grant-target"))
    expected = get_objects_for_user(operator, "auth.change_group", klass=Group, accept_global_perms=False)
    assert set(mine) == set(expected.filter(name__startswith="grant-target")) == {one, two}


def test_the_menu_follows_a_role_removed_mid_session(shared_cache, users, client_for, password):
    """The menu and the home page's shortcuts are worked out per request: a role removed while the user
    is signed in takes its entries away on the next page."""
    from django.urls import reverse

    from administration.services.users import user_set_roles

    planner = client_for("planner")
    orders = f'href="{reverse("orders:order_list")}"'
    assert orders in planner.get("/").content.decode()
    assert orders in planner.get("/").content.decode()  # now cached
    user_set_roles(
        actor=users["admin"], user_id=users["planner"].pk, roles=[], password=password, reason="left the company"
    )
    assert orders not in planner.get("/").content.decode()


def test_the_menu_lists_the_entries_has_perm_allows_for_every_kind_of_user(users):
    """The navigation (menu and home shortcuts) asks the user's permissions once for all its entries:
    the entries are those Django's has_perm allows, for every role, a superuser and an inactive user."""
    from django.contrib.auth import get_user_model

    from mes.registry import nav_items, nav_items_for

    model = get_user_model()
    model.objects.create_superuser("nav-super", password="x-Long-Password-1")
    inactive = model.objects.create_user("nav-inactive", password="x-Long-Password-1", is_active=False)
    inactive.groups.add(*users["qa"].groups.all())
    for name in [*users, "nav-super", "nav-inactive"]:
        fresh, reference = model.objects.get(username=name), model.objects.get(username=name)
        expected = [i for i in nav_items() if i.permission is None or reference.has_perm(i.permission)]
        assert nav_items_for(fresh) == expected, name
    assert len(nav_items_for(model.objects.get(username="nav-super"))) == len(nav_items())
    assert all(i.permission is None for i in nav_items_for(model.objects.get(username="nav-inactive")))
