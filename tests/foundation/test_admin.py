"""The Django admin cannot bypass the rules: a reason for every change, no deletion, no state edits."""

import pytest

from audit.models import AuditEvent
from materials.models import Material

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "Root-password-2026!")


def test_admin_change_needs_a_reason_and_is_audited(client, superuser):
    from materials.models import Location

    client.force_login(superuser)
    loc = Location.objects.create(code="WH-X1", name="Old", kind="warehouse", condition="ambient")
    url = f"/admin/materials/location/{loc.pk}/change/"
    data = {"code": "WH-X1", "name": "New", "name_zh": "", "kind": "warehouse", "condition": "ambient", "active": "on"}
    response = client.post(url, data)
    assert response.status_code == 200 and "Give the reason" in response.content.decode()
    loc.refresh_from_db()
    assert loc.name == "Old"
    response = client.post(url, {**data, "change_reason": "store renamed"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_type="materials.location", object_id=str(loc.pk)).order_by("seq").last()
    assert event.old == {"name": "Old"} and event.new == {"name": "New"}
    assert event.reason == "store renamed" and event.username == "root"


def test_admin_shows_master_data_under_change_control_read_only(client, superuser):
    client.force_login(superuser)
    m = Material.objects.create(code="X-1", name="Old", type="raw", unit="kg")
    page = client.get(f"/admin/materials/material/{m.pk}/change/").content.decode()
    assert 'name="name"' not in page and "change-control-note" in page
    client.post(f"/admin/materials/material/{m.pk}/change/", {"name": "New", "change_reason": "x"})
    m.refresh_from_db()
    assert m.name == "Old"  # through a change request only (issue 16)


def test_admin_offers_no_deletion(client, superuser):
    client.force_login(superuser)
    m = Material.objects.create(code="X-2", name="Keep", type="raw", unit="kg")
    assert client.get(f"/admin/materials/material/{m.pk}/delete/").status_code in (403, 302)
    assert client.post(f"/admin/audit/auditevent/{AuditEvent.objects.first().seq}/delete/").status_code in (
        403,
        302,
        404,
    )
    assert Material.objects.filter(pk=m.pk).exists()
