"""The Django admin cannot bypass the rules: a reason for every change, no deletion, no state edits."""

import pytest

from audit.models import AuditEvent
from materials.models import Material

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "Root-password-2026!")


def test_admin_change_needs_a_reason_and_is_audited(client, superuser):
    client.force_login(superuser)
    m = Material.objects.create(code="X-1", name="Old", type="raw", unit="kg")
    url = f"/admin/materials/material/{m.pk}/change/"
    data = {
        "code": "X-1",
        "name": "New",
        "name_zh": "",
        "type": "raw",
        "unit": "kg",
        "specification": "",
        "storage_condition": "ambient",
        "active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200 and "Give the reason" in response.content.decode()
    m.refresh_from_db()
    assert m.name == "Old"
    response = client.post(url, {**data, "change_reason": "supplier renamed the grade"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_type="materials.material", object_id=str(m.pk)).order_by("seq").last()
    assert event.old == {"name": "Old"} and event.new == {"name": "New"}
    assert event.reason == "supplier renamed the grade" and event.username == "root"


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
