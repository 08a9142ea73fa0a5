"""Health check, auditor pages, CSV export (itself audited), error pages, settings validation."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["checks"]["broker"]["ok"] is False


@pytest.mark.req("AUD-3", "AUD-5")
def test_auditor_searches_by_user_action_and_date(client_for, users):
    from audit.services import audit_record

    audit_record(
        action="orders.productionorder.approve",
        actor=users["supervisor"],
        object_type="orders.productionorder",
        object_id="7",
        reason="resources checked",
    )
    auditor = client_for("auditor")
    page = auditor.get(reverse("audit:event_list"), {"user": "supervisor", "action": "approve"})
    assert page.status_code == 200
    assert "resources checked" in page.content.decode()
    assert list(page.context["page"])[0].action == "orders.productionorder.approve"
    # long dotted actions wrap at their dots only, so the table fits a tablet's width
    assert "<code>orders.<wbr>productionorder.<wbr>approve</code>" in page.content.decode()
    empty = auditor.get(reverse("audit:event_list"), {"user": "nobody"})
    assert list(empty.context["page"]) == []
    bad = auditor.get(reverse("audit:event_list"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert "start date is after the end date" in bad.content.decode()


def test_audit_list_has_bounded_queries(client_for, users, django_assert_max_num_queries):
    from audit.services import audit_record

    for i in range(60):
        audit_record(action="x.y", object_type="t", object_id=str(i))
    auditor = client_for("auditor")
    with django_assert_max_num_queries(12):
        assert auditor.get(reverse("audit:event_list")).status_code == 200


@pytest.mark.req("AUD-3", "AUD-1")
def test_csv_export_contains_events_and_is_itself_audited(client_for, users):
    auditor = client_for("auditor")
    response = auditor.get(reverse("audit:export_csv"), {"action": "auth"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0].startswith("seq,timestamp_utc,user,action")
    export = AuditEvent.objects.filter(action="audit.export").last()
    assert export.username == "auditor" and export.new["filters"] == {"action": "auth"}


@pytest.mark.req("AUD-5")
@pytest.mark.parametrize(
    "role", ["planner", "supervisor", "operator", "qc", "qa", "maintenance", "warehouse", "analyst", "admin"]
)
def test_no_role_but_auditor_sees_the_audit_trail(client_for, role):
    c = client_for(role)
    for name in ("audit:event_list", "audit:export_csv", "audit:verify"):
        assert c.get(reverse(name)).status_code == 403


def test_verify_page_runs_the_chain_check(client_for):
    from audit.verification import write_checkpoint

    auditor = client_for("auditor")
    write_checkpoint()
    response = auditor.post(reverse("audit:verify"))
    assert response.status_code == 200 and response.context["result"].ok
    assert AuditEvent.objects.filter(action="audit.verify").exists()


def test_friendly_404_in_both_languages(client_for):
    c = client_for("planner")
    assert "does not exist" in c.get("/no-such-page/").content.decode()
    c.cookies["django_language"] = "zh-hans"
    assert "不存在" in c.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


@pytest.mark.parametrize(
    "var, value",
    [
        ("DEBUG", "maybe"),
        ("MES_LOCKOUT_THRESHOLD", "five"),
        ("MES_TIME_ZONE", "Mars/Olympus"),
        ("DATABASE_URL", "mysql://x"),
    ],
)
def test_bad_settings_fail_loudly(monkeypatch, var, value):
    import importlib

    import mes.settings

    monkeypatch.setenv(var, value)
    with pytest.raises(ImproperlyConfigured):
        importlib.reload(mes.settings)
    monkeypatch.delenv(var)
    importlib.reload(mes.settings)
