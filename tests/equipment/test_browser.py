"""The status board and a cleaning sign-off in headless Chromium (screenshots in test-artifacts/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from equipment.models import EquipmentLive, EquipmentStatus
from equipment.services import (
    equipment_cleaning_start,
    equipment_end_use,
    equipment_start_use,
    fault_report,
    workorder_create,
    workorder_start,
)
from tests.browser_fixtures import screenshot
from tests.equipment.conftest import fresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, username: str, password: str) -> None:
    """Sign in with the log-in form's own button (the top bar's language buttons are submit buttons too)."""
    # the base layout has no favicon yet (not this app's): answer it so only real problems are reported
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def plant_floor(make_equipment, make_batch, users):
    from mes.models import Line

    op, tech = users["operator"], users["maintenance"]
    l2 = Line.objects.get(code="L2")
    make_equipment("GRAN-101", name="High-shear granulator 300 L")
    running = make_equipment("TPRS-101", cls="TPRS", name="Rotary tablet press 45", opcua_endpoint="opc.tcp://x:4840")
    equipment_start_use(equipment=running, batch=make_batch(), user=op, step="Compression")
    EquipmentLive.objects.create(equipment=running, comm_state="ok", machine_state="running")
    lost = make_equipment("BLND-101", name="Bin blender 1000 L", opcua_endpoint="opc.tcp://x:4840")
    EquipmentLive.objects.create(equipment=lost, comm_state="lost", comm_changed_at=timezone.now())
    make_equipment(
        "BAL-101",
        cls="DISP",
        name="Floor balance 600 kg",
        calibration_due_on=timezone.localdate() - dt.timedelta(days=5),
    )
    dirty = make_equipment("FBD-201", name="Fluid-bed dryer 400 kg", line=l2)
    equipment_start_use(equipment=dirty, batch=make_batch(), user=op)
    equipment_end_use(equipment=dirty, user=op)
    cleaning = make_equipment("BLND-201", name="Bin blender 2000 L", line=l2)
    equipment_start_use(equipment=cleaning, batch=make_batch(), user=op)
    equipment_end_use(equipment=cleaning, user=op)
    equipment_cleaning_start(equipment=cleaning, user=op, kind="full", procedure="SOP-CL-031")
    broken = make_equipment("GRAN-201", name="High-shear granulator 600 L", line=l2)
    wo = workorder_create(
        fault=fault_report(equipment=broken, user=op, description="Chopper motor vibrates"), user=tech
    )
    workorder_start(work_order=wo, user=tech)
    return {"cleaning": cleaning}


@pytest.mark.req("EQP-2", "EQP-4")
def test_status_board_shows_colours_and_reasons_and_refreshes(new_page, plant_floor, password):
    page, problems = new_page()
    login(page, "operator", password)
    page.goto("/equipment/")
    board = page.get_by_test_id("board")
    assert board.get_by_test_id("tile-GRAN-101").get_attribute("data-usable") == "yes"
    assert "Calibration overdue" in board.get_by_test_id("tile-BAL-101").inner_text()
    assert "Communication lost" in board.get_by_test_id("tile-BLND-101").inner_text()
    assert "B-TEST-001" in board.get_by_test_id("tile-TPRS-101").inner_text()
    assert board.get_by_test_id("tile-GRAN-201").get_attribute("data-status") == "maintenance"
    with page.expect_request(lambda r: "/equipment/board/tiles/" in r.url, timeout=8000) as req:
        pass
    assert req.value.headers.get("x-mes-background") == "1"
    page.wait_for_timeout(300)
    screenshot(page, "equipment-status-board")
    problems.check()


@pytest.mark.req("EQP-8", "SEC-3")
def test_cleaning_sign_off_with_the_signature_dialog(new_page, plant_floor, password):
    eq = plant_floor["cleaning"]
    page, problems = new_page()
    login(page, "operator", password)
    page.goto(f"/equipment/{eq.pk}/")
    assert "Cleaning is in progress" in page.get_by_test_id("usability").inner_text()
    page.get_by_test_id("sign-off-cleaning").click()
    page.fill("#id_remarks", "Washed with purified water, visually clean, swab taken.")
    page.fill("#id_sig_password", password)
    page.fill("#id_sig_reason", "Cleaned per SOP-CL-031")
    screenshot(page, "equipment-cleaning-sign-off")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"**/equipment/{eq.pk}/")
    assert "May be used now." in page.get_by_test_id("usability").inner_text()
    assert "signed off" in page.get_by_test_id("logbook").inner_text()
    screenshot(page, "equipment-detail-after-cleaning")
    assert fresh(eq).status == EquipmentStatus.AVAILABLE
    problems.check()
