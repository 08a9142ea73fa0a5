"""ERP, WMS links wired to the domain: plans become orders once; changes write outbox messages."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.models import InboxMessage, InboxStatus, OutboxMessage
from orders.models import ProductionOrder
from tests.orders.conftest import advance, order_values

PLANS = "/api/v1/erp/production-plans/"


def _plan(plan_id="PP-100", refs=("4500001", "4500002"), product="IM-GRN-500", **line):
    start = timezone.now() + dt.timedelta(days=2)
    return {
        "plan_id": plan_id,
        "lines": [
            {
                "erp_reference": ref,
                "product_code": product,
                "quantity": "400",
                "unit": "kg",
                "planned_start": start.isoformat(),
                "planned_end": (start + dt.timedelta(hours=12)).isoformat(),
                "line_code": "L1",
                **line,
            }
            for ref in refs
        ],
    }


def _push(client, body, **headers):
    return client.post(PLANS, data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.req("INT-1", "ORD-1")
def test_pushed_plan_becomes_orders_through_the_orders_service(db, effective_recipe, api_for, accounts):
    response = _push(api_for("erp"), _plan())
    assert response.status_code == 201, response.content
    orders = ProductionOrder.objects.filter(erp_reference__in=["4500001", "4500002"])
    assert orders.count() == 2 and {o.status for o in orders} == {"draft"}
    assert {o.created_by_id for o in orders} == {accounts["erp"][0].user_id}
    assert [o["created"] for o in response.json()["result"]["orders"]] == [True, True]


@pytest.mark.req("INT-1")
def test_duplicate_inbound_plan_gives_one_order(db, effective_recipe, api_for):
    client = api_for("erp")
    assert _push(client, _plan(refs=("4500009",))).status_code == 201
    again = _push(client, _plan(refs=("4500009",)))  # same plan id: the same message
    assert again.status_code == 200 and again.json()["duplicate"] is True
    # A new plan revision repeating the line (another message id): still one order for the reference.
    revised = _push(client, {**_plan(refs=("4500009",)), "plan_id": "PP-100-R1"})
    assert revised.status_code == 201 and revised.json()["result"]["orders"][0]["created"] is False
    assert ProductionOrder.objects.filter(erp_reference="4500009").count() == 1
    assert InboxMessage.objects.filter(kind="production_plan").count() == 2


@pytest.mark.req("INT-1")
def test_plan_with_a_bad_line_applies_nothing(db, effective_recipe, api_for):
    plan = _plan(refs=("4500011",))
    bad = _plan(refs=("4500012",), product="NO-SUCH-PRODUCT")["lines"][0]
    plan["lines"].append(bad)
    response = _push(api_for("erp"), plan)
    assert response.status_code == 400
    assert any(k.startswith("lines.1.") for k in response.json()["errors"])
    assert not ProductionOrder.objects.filter(erp_reference__in=["4500011", "4500012"]).exists()
    assert InboxMessage.objects.get().status == InboxStatus.FAILED


@pytest.mark.req("INT-1")
def test_plans_pulled_on_schedule_once_each(db, effective_recipe, peer, accounts):
    from integrations.erp.tasks import erp_plans_pull

    peer.state.plans = [_plan("PP-200", refs=("4500021",)), _plan("PP-201", refs=("4500022",))]
    first = erp_plans_pull.delay().get()
    assert first["plans"] == 2 and first["processed"] == 2
    erp_plans_pull.delay().get()  # the next tick sees the same plans
    assert ProductionOrder.objects.filter(erp_reference__in=["4500021", "4500022"]).count() == 2
    assert InboxMessage.objects.filter(kind="production_plan").count() == 2
    assert peer.state.requests[0]["headers"]["Authorization"] == "Bearer erp-secret"


@pytest.mark.req("INT-1", "INT-4")
def test_release_and_completion_write_outbox_messages_in_the_transaction(db, effective_recipe, users, password):
    from orders.services import order_create

    order = order_create(user=users["planner"], erp_reference="4500031", **order_values())
    advance(order, "released", users)
    requirement = OutboxMessage.objects.get(system="wms", kind="material_requirement", key=order.number)
    assert {line["material_code"] for line in requirement.payload["lines"]} == {"RM-API-001", "RM-EXC-010"}
    assert requirement.payload["lines"][0]["quantity"] == "340.000"  # 170 kg per 200 kg, order of 400 kg
    from orders.services import order_complete, order_start

    order_start(user=users["supervisor"], order_id=order.pk)
    order_complete(user=users["supervisor"], order_id=order.pk, password=password)
    completion = OutboxMessage.objects.get(system="erp", kind="order_completed", key=order.number)
    assert completion.payload["erp_reference"] == "4500031" and completion.status == "pending"


@pytest.mark.req("INT-1", "INT-4")
def test_material_issue_tells_erp_and_wms(db, plant, users, password):
    from materials.models import Location, Material
    from materials.services import lot_issue_to_batch, lot_receive, lot_release
    from tests.materials.conftest import make_batch

    api = Material.objects.get(code="RM-API-001")
    lot = lot_receive(
        user=users["warehouse"],
        material=api,
        quantity="50",
        unit="kg",
        location=Location.objects.get(code="WH-A01"),
        expiry_date=timezone.localdate() + dt.timedelta(days=300),
    )
    from quality.seed_evidence import inspection_pass

    inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)
    lot_release(user=users["qc"], lot=lot, password=password)
    assert OutboxMessage.objects.filter(system="wms", kind="lot_status", key=f"{lot.code}:released").exists()
    batch = make_batch("B-INT-1", Material.objects.get(code="IM-GRN-500"))
    entry = lot_issue_to_batch(
        user=users["operator"],
        batch=batch,
        lot_code=lot.code,
        quantity="10",
        unit="kg",
        material=api,
        required_quantity="10",
        tolerance_pct=1,
    )
    for system, kind in (("erp", "material_consumed"), ("wms", "consumption_confirmation")):
        message = OutboxMessage.objects.get(system=system, kind=kind, key=f"ledger:{entry.pk}")
        assert message.payload["lot"] == lot.code and Decimal(message.payload["quantity"]) == Decimal("10")


@pytest.mark.req("INT-4")
def test_wms_receipt_and_stock_status(db, plant, api_for):
    client = api_for("wms")
    receipt = {
        "receipt_id": "GR-7001",
        "material_code": "RM-EXC-010",
        "supplier": "JRS Pharma",
        "supplier_lot": "JRS-2291",
        "quantity": "120",
        "unit": "kg",
        "location": "WH-A02",
        "received_at": "2026-03-01T08:00:00Z",
    }
    response = client.post("/api/v1/wms/receipts/", data=json.dumps(receipt), content_type="application/json")
    assert response.status_code == 201, response.content
    from materials.models import Lot

    lot = Lot.objects.get(code=response.json()["result"]["lot"])
    assert lot.status == "quarantine" and lot.supplier_lot == "JRS-2291"
    status = {"lot_number": lot.code, "quantity": "118.5"}
    answer = client.post("/api/v1/wms/stock-status/", data=json.dumps(status), content_type="application/json")
    assert answer.status_code == 201
    assert answer.json()["result"]["matches"] is False and answer.json()["result"]["difference"] == "-1.500"
    bad = {**receipt, "receipt_id": "GR-7002", "material_code": "NOPE"}
    refused = client.post("/api/v1/wms/receipts/", data=json.dumps(bad), content_type="application/json")
    assert refused.status_code == 400 and "material_code" in refused.json()["errors"]
    assert Lot.objects.filter(reference="WMS GR-7002").count() == 0
