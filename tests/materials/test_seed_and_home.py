"""The demo plant's materials (idempotent, ledger and cache agree) and the home-page work cards."""

import pytest
from django.core.management import call_command

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
