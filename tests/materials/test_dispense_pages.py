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
