"""The dispensing booth's pages: access, the containers list without N+1, the label PDF (issue 19)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from equipment.balances.simulator import BalanceSimulator
from materials.requirements import Requirement
from materials.services.dispense import dispense_manual
from tests.materials.balances import make_balance


@pytest.fixture
def sim():
    s = BalanceSimulator(serial="B500123", capacity="6200").start()
    yield s
    s.stop()


def _typed(users, password, batch, lot, api, n):
    line = Requirement(material=api, quantity=Decimal("0.250"), unit="kg", tolerance_pct=Decimal("2000"))
    for _ in range(n):
        dispense_manual(
            user=users["operator"],
            batch=batch,
            requirement=line,
            lot_code=lot.code,
            gross="110",
            tare="10",
            unit="g",
            reason="Balance down",
            verifier=users["operator2"],
            verifier_password=password,
        )


def test_containers_list_is_one_query_whatever_their_number(
    client_for, users, password, batch, api, released, sim, django_assert_max_num_queries
):
    make_balance("BAL-01", sim)
    lot = released(api, "5")
    client = client_for("operator")
    url = reverse("materials:dispense_screen", kwargs={"number": batch.number}) + "?balance=BAL-01"
    _typed(users, password, batch, lot, api, 2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _typed(users, password, batch, lot, api, 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('data-testid="container"') == 8


def test_label_pdf_and_who_may_open_the_booth(client_for, users, password, batch, api, released, sim):
    make_balance("BAL-01", sim)
    lot = released(api, "5")
    _typed(users, password, batch, lot, api, 1)
    entry = batch.dispense_entries.get()
    url = reverse("materials:dispense_screen", kwargs={"number": batch.number})
    assert client_for("qc").get(url).status_code == 403
    response = client_for("operator").post(url, {"op": "label", "entry": entry.pk, "format": "pdf"})
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    entry.refresh_from_db()
    assert entry.labels_printed == 1


def _live(client, batch, token, balance="BAL-01"):
    url = reverse("materials:dispense_weight", kwargs={"number": batch.number})
    response = client.get(url, {"line": token, "balance": balance})
    assert response.status_code == 200
    return response.json()


def test_live_weight_shows_the_pan_against_the_containers_window_and_records_nothing(
    client_for, users, batch, api, sim
):
    from audit.models import AuditEvent
    from equipment.services.balance import balance_tare
    from materials.requirements import requirement_token

    balance = make_balance("BAL-01", sim, minimum="20", checker=users["operator"])
    # 250 g ± 2 %: the next container may hold 245 to 255 g net.
    line = Requirement(material=api, quantity=Decimal("0.250"), unit="kg", tolerance_pct=Decimal(2), line_ref="10")
    token = requirement_token(line, batch)
    client = client_for("operator")
    events = AuditEvent.objects.count()
    sim.put("85.30")
    balance_tare(balance=balance)  # the operator tares the empty container
    sim.add("12.00")
    shown = _live(client, batch, token)
    assert shown["ok"] and shown["weight"] == "12 g" and shown["state"] == "below-minimum"
    sim.add("100.00")
    shown = _live(client, batch, token)
    assert shown["state"] == "short" and "133 g" in shown["message"] and "245 g" in shown["message"]
    sim.add("138.40")
    sim.set_unstable()
    shown = _live(client, batch, token)
    assert shown["state"] == "in" and shown["stable"] is False  # in the window, still settling
    sim.set_unstable(False)
    sim.add("10")
    shown = _live(client, batch, token)
    assert shown["state"] == "over" and shown["stable"] is True and "5.4 g" in shown["message"]
    assert AuditEvent.objects.count() == events  # a display, not a record
    assert (
        client_for("qc").get(reverse("materials:dispense_weight", kwargs={"number": batch.number})).status_code == 403
    )


def test_live_weight_from_the_wrong_balance_shows_why_and_no_weight(client_for, batch, api, sim):
    from materials.requirements import requirement_token

    make_balance("BAL-01", sim, serial="B999999")  # the record says another serial number
    line = Requirement(material=api, quantity=Decimal("0.250"), unit="kg", tolerance_pct=Decimal(2), line_ref="10")
    sim.put("50")
    shown = _live(client_for("operator"), batch, requirement_token(line, batch))
    assert shown["ok"] is False and "Wrong balance" in shown["message"] and "weight" not in shown
