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
