"""Django admin over every model under change control (issue 16): no controlled field is editable, no
record is added there, deleting is refused, and the change page links to a change request instead."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from mes.changecontrol import registry
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CONTROLLED = sorted(registry())


def test_every_registered_controlled_model_is_covered():
    """The parametrised test below runs over the registry; it must not be empty or miss an app."""
    apps_covered = {key.split(".")[0] for key in CONTROLLED}
    assert {"equipment", "materials"} <= apps_covered


@pytest.mark.parametrize("key", CONTROLLED)
def test_django_admin_cannot_change_or_add_a_controlled_record(key):
    entry = registry()[key]
    model_admin = admin.site._registry.get(entry.model)
    assert model_admin is not None, f"{entry.label} is not in the admin: its page would not say why"
    request = RequestFactory().get("/")
    request.user = make_user("admin.cc", "admin")
    request.user.is_superuser = True  # the strongest admin there is still gets no editable controlled field
    readonly = set(model_admin.get_readonly_fields(request, obj=entry.model()))
    assert set(entry.fields) <= readonly, sorted(set(entry.fields) - readonly)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.change_form_template == "admin/change_controlled_form.html"
