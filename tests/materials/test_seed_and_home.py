"""The demo plant's materials (idempotent, ledger and cache agree) and the home-page work cards."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from materials.models import Location, Lot
from materials.services import stock_check

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_leaves_work_in_every_state(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    lots = list(Lot.objects.all())
    # the materials seed's own lots (the quality seed adds a receipt and batch output lots of its own)
    assert len([lot for lot in lots if lot.reference.startswith("DEMO-")]) == 15 and Location.objects.count() == 8
    assert {lot.effective_status for lot in lots} >= {"released", "quarantine", "blocked", "rejected", "expired"}
    assert stock_check() == []
    call_command("check_stock")
    # the granulator's speed history is seeded once: the SPC report of the recipe's critical
    # impeller speed (read from that OPC UA tag) has a control chart with its flagged points
    from equipment.models import TagReading
    from reports import builders
    from reports.sources import Filters

    assert TagReading.objects.filter(tag__node_id="ns=2;s=GRAN-101.speed").count() == 72
    today = timezone.localdate()
    spc = builders.spc(Filters(today - dt.timedelta(days=2), today))
    impeller = next(row for row in spc.tables[0].rows if "Impeller speed" in row[0])
    assert impeller[1] == 72 and impeller[-1] > 0 and spc.charts


def test_home_page_cards_for_warehouse_qc_and_operator(client):
    from django.contrib.auth import get_user_model

    call_command("seed_demo")
    users = get_user_model().objects
    client.force_login(users.get(username="warehouse"))
    page = client.get("/").content.decode()
    assert "Lots in quarantine" in page and "Expired lots in stock" in page
    client.force_login(users.get(username="qc"))
    assert "Blocked lots" in client.get("/").content.decode()
    client.force_login(users.get(username="operator"))
    assert "Batches to dispense" in client.get("/").content.decode()


def test_seed_demo_binds_balances_and_leaves_a_dispense_order_waiting():
    """The demo's balances are served by balance_simulator exactly as seeded, and the ready batch can be
    dispensed on the precision balance once the operator has done its daily check (issue 19)."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from batches.models import Batch
    from equipment.management.commands.balance_simulator import configured_simulators
    from equipment.services import equipment_daily_check_record
    from equipment.services.balance import balance_check_record, balance_get, balance_problems, balance_tare
    from equipment.services.care import checklist_for
    from materials.requirements import Requirement, batch_requirements
    from materials.services import lot_suggest_fefo
    from materials.services.dispense import dispense_capture

    call_command("seed_demo")
    sims = dict(configured_simulators())
    assert set(sims) == {"BAL-101", "BAL-102", "BAL-103", "BAL-201"}
    assert {s.port for s in sims.values()} == {8101, 8102, 8103, 8104}
    batch = Batch.objects.filter(status="ready").order_by("number").first()
    lines = [r for r in batch_requirements(batch) if r.unit in ("kg", "g")]
    assert lines, "the ready batch has weighable lines"
    operator = get_user_model().objects.get(username="operator")
    precision = balance_get("BAL-102")
    assert any("daily balance check" in p for p in balance_problems(precision))
    assert any("Calibration overdue" in p for p in balance_problems(balance_get("BAL-101")))
    # The demo simulator listens on fixed ports; here the same balance runs on a free one.
    sim = sims["BAL-102"]
    sim._port = 0
    sim.start()
    try:
        precision.port = sim.port
        sim.put("200.01")
        assert balance_check_record(user=operator, balance=precision, test_weight="TW-200-01").passed
        # A balance is equipment too: its daily checklist (clean, level, ...) blocks use as for any machine.
        assert any("Daily check not done today" in p for p in balance_problems(precision))
        items = checklist_for(precision.equipment)
        equipment_daily_check_record(
            equipment=precision.equipment, user=operator, answers={i.pk: (True, "") for i in items}
        )
        assert balance_problems(precision) == []
        line = lines[-1]
        small = Requirement(line.material, Decimal("0.5"), "kg", Decimal("1"), False, line.line_ref)
        lot = lot_suggest_fefo(material=line.material, limit=1)[0]
        sim.put("85.30")
        balance_tare(balance=precision)
        sim.add("500.00")
        entry = dispense_capture(user=operator, batch=batch, requirement=small, lot_code=lot.code, balance=precision)
        assert entry.net == Decimal("500.00") and entry.balance_serial == "B530112233"
    finally:
        sim.stop()


def test_seed_demo_leaves_a_new_tag_waiting_for_approval():
    """The demo's tag picked in the tag browser is a change request, not yet a tag (issue 16)."""
    from equipment.models import EquipmentTag
    from mes.models import MasterDataChange

    call_command("seed_demo")
    change = MasterDataChange.objects.get(object_type="equipment.equipmenttag", object_id="", status="proposed")
    assert change.after["key"] == "product_temperature" and change.proposed_by.username == "admin"
    assert not EquipmentTag.objects.filter(key="product_temperature").exists()
