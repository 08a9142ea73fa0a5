"""System status page, home-page work cards, demo seed and the Django admin of administration records."""

import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from administration.models import ConfigChange, SecurityAlert

pytestmark = pytest.mark.django_db


@pytest.mark.req("SEC-5")
def test_status_page_shows_heartbeat_queue_backup_disk_and_alerts(client_for, settings, tmp_path, users):
    settings.VAR_DIR = tmp_path
    settings.MES_BACKUP_DIR = tmp_path / "backups"
    settings.CELERY_BROKER_URL = "filesystem://"  # the embedded broker's queue is a folder we can fill
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(tmp_path / "q"),
    }
    admin = client_for("admin")
    s = admin.get(reverse("administration:status")).context["s"]
    assert s["heartbeat_age"] is None and not s["heartbeat_ok"] and s["last_backup"] is None and not s["backup_ok"]
    assert s["dead_letters"] == 0 and s["integrations"]["outbox_pending"] == 0  # the integrations hook
    (tmp_path / "heartbeat").write_text(str(time.time() - 30))
    (tmp_path / "q").mkdir(exist_ok=True)
    (tmp_path / "q" / "msg1.msg").write_text("{}")
    from administration.services.backup import backup_create

    backup_create(directory=settings.MES_BACKUP_DIR)
    response = admin.get(reverse("administration:status"))
    s = response.context["s"]
    assert s["heartbeat_ok"] and 29 <= s["heartbeat_age"] < 60
    assert s["queue_length"] == 1 and s["backup_ok"] and s["backup_count"] == 1 and s["disk_total"] > 0
    assert "mes-backup-" in response.content.decode()


def test_heartbeat_task_feeds_the_status_page(settings, tmp_path):
    from administration.services.status import heartbeat_age
    from mes.tasks import heartbeat

    settings.VAR_DIR = tmp_path
    heartbeat.delay()
    assert heartbeat_age() < 5


def test_work_cards_for_qa_and_admin(client_for, users, settings):
    from administration.models import ConfigParameter
    from administration.services.config import config_propose

    config_propose(
        user=users["admin"],
        parameter_id=ConfigParameter.objects.get(name="auth.lockout_threshold").pk,
        new_value="4",
        reason="r",
    )
    qa_cards = {str(c.title): c for c in client_for("qa").get(reverse("home")).context["cards"]}
    assert qa_cards["Configuration changes to approve"].count == 1
    assert "Access review due" in qa_cards
    settings.MES_ALERT_THRESHOLD = 1
    from mes.security import security_register_failure

    security_register_failure(username="planner", kind="login")
    admin_cards = {str(c.title): c for c in client_for("admin").get(reverse("home")).context["cards"]}
    assert admin_cards["Open security alerts"].count == 1
    assert "Configuration changes to approve" not in {
        str(c.title) for c in client_for("operator").get(reverse("home")).context["cards"]
    }


def test_seed_is_idempotent_and_leaves_work_waiting():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert ConfigChange.objects.filter(status="effective").count() == 1
    assert ConfigChange.objects.filter(status="proposed").count() == 1
    assert SecurityAlert.objects.count() == 1
    from administration.models import RoleRequest

    # the demo shows a role grant waiting for a second person; the demo admin holds only "admin"
    assert RoleRequest.objects.filter(status="proposed", role="qc").count() == 1
    from django.contrib.auth import get_user_model

    assert list(get_user_model().objects.get(username="admin").groups.values_list("name", flat=True)) == ["admin"]


def test_every_administration_page_renders_for_its_roles(client_for, users, password):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from django.contrib.auth import get_user_model

    admin = client_for("admin")
    operator = get_user_model().objects.get(username="operator")
    for name, kwargs in [
        ("administration:config_list", None),
        ("administration:change_list", {"status": "all"}),
        ("administration:config_review", None),
        ("administration:access_review", None),
        ("administration:status", None),
        ("administration:alert_list", None),
        ("administration:user_list", None),
        ("administration:user_new", None),
        ("administration:my_account", None),
        ("administration:role_request_list", None),
    ]:
        assert admin.get(reverse(name), kwargs or {}).status_code == 200, name
    assert admin.get(reverse("administration:user_detail", args=[operator.pk])).status_code == 200
    change = ConfigChange.objects.get(status="proposed")
    assert (
        'data-testid="action-approve"'
        in client_for("qa").get(reverse("administration:change_detail", args=[change.pk])).content.decode()
    )


def test_django_admin_shows_administration_records_read_only(client, users):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.com", "Root-password-2026!")
    client.force_login(root)
    assert client.get("/admin/administration/configparameter/").status_code == 200
    assert client.get("/admin/administration/configparameter/add/").status_code == 403
    assert client.get("/admin/auth/user/add/").status_code == 403
