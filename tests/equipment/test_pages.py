"""Equipment pages: access per role, bounded queries, and the actions through the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.context import audit_context
from equipment.access import ACCESS
from equipment.models import Equipment, EquipmentLive, EquipmentStatus, FaultReport, WorkOrder
from equipment.services import equipment_daily_check_record, equipment_start_use, fault_report
from equipment.services.care import checklist_for
from mes.access import ALL_ROLES
from mes.changecontrol import controlled_writes
from tests.equipment.conftest import fresh

pytestmark = pytest.mark.django_db


@pytest.mark.req("SEC-2")
def test_every_equipment_url_answers_by_role(users, client_for, equipment):
    role_users = {u.groups.first().name: name for name, u in users.items() if u.groups.exists()}
    for url_name, rule in ACCESS.items():
        kwargs = rule.make_kwargs({}) if rule.make_kwargs else rule.kwargs
        url = reverse(url_name, kwargs=kwargs)
        for role in ALL_ROLES:
            client = client_for(role_users[role])
            response = client.post(url, {}) if rule.method == "post" else client.get(url)
            if role in rule.roles:
                expected = {302} if rule.method == "post" else {200}
                assert response.status_code in expected, (url_name, role, response.status_code)
            else:
                assert response.status_code == 403, (url_name, role, response.status_code)


def _many(make_equipment, n):
    for i in range(n):
        eq = make_equipment(f"EQ-{i:03d}")
        fault_report(equipment=eq, user=None, description="alarm", source="alarm", alarm_key=f"k{i}")
        EquipmentLive.objects.create(equipment=eq, comm_state="lost" if i % 2 else "ok", machine_state="running")


@pytest.mark.req("EQP-2")
def test_status_board_queries_do_not_grow_with_the_number_of_equipment(
    make_equipment, client_for, django_assert_max_num_queries
):
    client = client_for("operator")
    _many(make_equipment, 3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("equipment:board_tiles")).status_code == 200
    for i in range(3, 40):
        eq = make_equipment(f"EQ-{i:03d}")
        fault_report(equipment=eq, user=None, description="alarm", source="alarm", alarm_key=f"k{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("equipment:board_tiles"), headers={"X-MES-Background": "1"})
    assert response.content.decode().count('class="eq-tile') == 40
    with django_assert_max_num_queries(len(small.captured_queries) + 3):
        assert client.get(reverse("equipment:board")).status_code == 200


@pytest.mark.req("EQP-2", "EQP-4")
def test_board_colours_by_status_and_says_why_equipment_is_blocked(make_equipment, client_for):
    ok = make_equipment("GRAN-OK")
    make_equipment("GRAN-CAL", calibration_due_on=timezone.localdate() - dt.timedelta(days=2))
    html = client_for("operator").get(reverse("equipment:board")).content.decode()
    assert 'data-testid="tile-GRAN-OK" data-status="available" data-usable="yes"' in html
    assert 'st-blocked" href' in html and "Calibration overdue since" in html
    assert 'hx-headers=\'{"X-MES-Background": "1"}\'' in html and 'hx-trigger="every 5s"' in html
    assert ok.code in html


def test_background_polling_does_not_count_as_user_activity(client_for):
    client = client_for("operator")
    client.get(reverse("equipment:board"))
    stamp = client.session["mes_last_activity"]
    client.get(reverse("equipment:board_tiles"), headers={"X-MES-Background": "1"})
    assert client.session["mes_last_activity"] == stamp


@pytest.mark.req("EQP-8", "SEC-3")
def test_cleaning_through_the_pages_with_signature(equipment, make_batch, users, client_for, password):
    equipment_start_use(equipment=equipment, batch=make_batch(), user=users["operator"])
    client = client_for("operator")
    response = client.post(reverse("equipment:end_use", args=[equipment.pk]))
    assert response.status_code == 302 and fresh(equipment).status == EquipmentStatus.DIRTY
    client.post(reverse("equipment:cleaning_start", args=[equipment.pk]), {"kind": "full", "procedure": "SOP-CL-1"})
    assert fresh(equipment).status == EquipmentStatus.CLEANING
    page = client.get(reverse("equipment:cleaning_finish", args=[equipment.pk])).content.decode()
    assert 'data-testid="signature-box"' in page
    bad = client.post(reverse("equipment:cleaning_finish", args=[equipment.pk]), {"password": "nope-nope"})
    assert bad.status_code == 200 and "The password is not correct" in bad.content.decode()
    assert fresh(equipment).status == EquipmentStatus.CLEANING
    client.post(reverse("equipment:cleaning_finish", args=[equipment.pk]), {"password": password, "reason": "ok"})
    assert fresh(equipment).status == EquipmentStatus.AVAILABLE
    detail = client.get(reverse("equipment:detail", args=[equipment.pk])).content.decode()
    assert "May be used now." in detail and "Cleaning CL-" in detail


@pytest.mark.req("EQP-6")
def test_daily_check_page_records_a_failure(equipment, client_for):
    items = checklist_for(equipment)
    data = {f"item_{i.pk}": "ok" for i in items}
    data[f"item_{items[0].pk}"] = "nok"
    data[f"note_{items[0].pk}"] = "guard cracked"
    client = client_for("operator")
    assert client.get(reverse("equipment:daily_check", args=[equipment.pk])).status_code == 200
    client.post(reverse("equipment:daily_check", args=[equipment.pk]), data)
    fault = FaultReport.objects.get(equipment=equipment)
    assert fault.source == "daily_check" and "guard cracked" in fault.description


@pytest.mark.req("EQP-3", "EQP-7")
def test_work_order_pages_refuse_the_repairer_as_requalifier(equipment, users, client_for, password):
    fault = fault_report(equipment=equipment, user=users["operator"], description="Noise")
    tech = client_for("maintenance")
    tech.post(reverse("equipment:workorder_create", args=[fault.pk]))
    wo = WorkOrder.objects.get(fault=fault)
    url = reverse("equipment:workorder_detail", args=[wo.pk])
    tech.post(url, {"step": "start"})
    tech.post(
        url,
        {
            "step": "complete",
            "work_done": "Bearing replaced",
            "parts_replaced": "6205-2RS",
            "labour_minutes": "40",
            "password": password,
        },
    )
    assert fresh(wo).status == "completed"
    page = tech.get(url).content.decode()
    assert 'data-testid="requalify-form"' not in page  # not offered to the repairer
    refused = tech.post(url, {"step": "requalify", "notes": "ok", "password": password}, follow=True)
    assert "someone other than" in refused.content.decode() and fresh(wo).status == "completed"
    qa = client_for("qa")
    assert 'data-testid="requalify-form"' in qa.get(url).content.decode()
    qa.post(url, {"step": "requalify", "notes": "Run-in test 15 min OK", "password": password})
    assert fresh(wo).status == "closed" and fresh(equipment).status == EquipmentStatus.AVAILABLE


def test_lists_render(make_equipment, client_for, users):
    make_equipment("BAL-1", cls="DISP", calibration_due_on=timezone.localdate() - dt.timedelta(days=1))
    make_equipment("GRAN-X", cleaned_at=timezone.now() - dt.timedelta(hours=100))
    html = client_for("maintenance").get(reverse("equipment:calibration_due")).content.decode()
    assert "BAL-1" in html and "Overdue" in html
    html = client_for("operator").get(reverse("equipment:cleaning_due")).content.decode()
    assert "GRAN-X" in html
    assert client_for("analyst").get(reverse("equipment:oee")).status_code == 200
    assert Equipment.objects.count() == 2


def test_admin_saves_master_data_through_the_service_and_keeps_status_read_only(equipment, users, client_for, password):
    from django.core.exceptions import PermissionDenied, ValidationError

    from audit.models import AuditEvent
    from equipment.services.master import master_data_save
    from mes.changecontrol import masterdata_change_approve, masterdata_propose

    admin_client = client_for("admin")
    page = admin_client.get(reverse("admin:equipment_equipment_change", args=[equipment.pk]))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()  # read-only: shown, not editable
    assert 'name="location"' not in page.content.decode()  # under change control (issue 16)
    eq = fresh(equipment)
    eq.location = "OSD-110"
    with pytest.raises(ValidationError, match="change control"):
        master_data_save(user=users["admin"], obj=eq, reason="room renumbered")
    change = masterdata_propose(user=users["admin"], obj=eq, reason="room renumbered")
    masterdata_change_approve(user=users["qa"], change_id=change.pk, password=password)
    event = AuditEvent.objects.filter(object_type="equipment.equipment", object_id=str(eq.pk)).order_by("-seq").first()
    assert event.username == "qa" and event.new == {"location": "OSD-110"} and event.reason == f"MDC-{change.pk:05d}"
    with pytest.raises(PermissionDenied):
        master_data_save(user=users["operator"], obj=fresh(eq))


@pytest.mark.parametrize(
    "url_name,role",
    [
        ("equipment:workorders", "maintenance"),
        ("equipment:calibration_due", "maintenance"),
        ("equipment:cleaning_due", "operator"),
        ("equipment:oee", "analyst"),
    ],
)
def test_list_pages_have_bounded_queries(
    url_name, role, make_equipment, users, client_for, django_assert_max_num_queries
):
    from equipment.services import workorder_create

    client = client_for(role)

    def grow(start, n):
        for i in range(start, start + n):
            eq = make_equipment(
                f"EQ-{i:03d}",
                cleaned_at=timezone.now() - dt.timedelta(hours=100),
                calibration_due_on=timezone.localdate() - dt.timedelta(days=1),
            )
            fault_report(equipment=eq, user=users["operator"], description="noise")
            workorder_create(
                fault=fault_report(equipment=eq, user=users["operator"], description="leak"), user=users["maintenance"]
            )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grow(0, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(url_name)).status_code == 200
    grow(2, 15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse(url_name)).status_code == 200


def test_detail_page_queries_do_not_grow_with_the_logbook(equipment, users, client_for, django_assert_max_num_queries):
    from equipment.services import fault_dismiss

    client = client_for("operator")
    for i in range(40):
        fault_dismiss(
            fault=fault_report(equipment=equipment, user=users["operator"], description=f"f{i}"),
            user=users["maintenance"],
            reason="not a fault",
        )
    with django_assert_max_num_queries(30):
        assert client.get(reverse("equipment:detail", args=[equipment.pk])).status_code == 200


def test_a_failed_daily_check_reads_with_the_items_chinese_name(equipment, users, client_for):
    """The fault of a failed daily check stores the item's English name; a Chinese reader reads its
    Chinese name (issue 17: "日常点检不合格：Guard intact — ..." on the maintenance page)."""
    items = checklist_for(equipment)
    item = items[0]
    item.name_zh = "防护罩完好"
    with controlled_writes("test: the checklist item has its Chinese name"), audit_context(action="test.setup"):
        item.save()
    answers = {i.pk: (True, "") for i in items}
    answers[item.pk] = (False, "cracked")
    equipment_daily_check_record(equipment=equipment, user=users["operator"], answers=answers)
    fault = FaultReport.objects.get(equipment=equipment)
    assert fault.description == f"Daily check failed: {item.name} — cracked"
    tech = client_for("maintenance")
    tech.cookies["django_language"] = "zh-hans"
    zh = tech.get(reverse("equipment:workorders")).content.decode()
    assert "日常点检不合格：防护罩完好 — cracked" in zh and item.name not in zh
    tech.cookies["django_language"] = "en"
    en = tech.get(reverse("equipment:workorders")).content.decode()
    assert f"Daily check failed: {item.name} — cracked" in en
