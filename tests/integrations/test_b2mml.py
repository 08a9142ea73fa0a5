"""ISA-95 B2MML: schedules in as orders, performance out for a closed batch, validated against the
official V0700 schemas (integrations/b2mml/xsd, courtesy of MESA International)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import etree

from integrations.b2mml.performance import performance_read
from integrations.b2mml.schedule import plan_to_schedule, schedule_to_plan
from integrations.models import InboxMessage, InboxStatus
from orders.models import ProductionOrder

XSD_DIR = Path(__file__).resolve().parent.parent.parent / "integrations" / "b2mml" / "xsd"
pytestmark = pytest.mark.req("INT-1")


@cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name)))


def assert_valid(xml: bytes, xsd: str) -> None:
    validator = schema(xsd)
    document = etree.fromstring(xml)
    assert validator.validate(document), validator.error_log


def _plan(refs=("4600001", "4600002")):
    start = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    return {
        "plan_id": "PS-2026-W14",
        "lines": [
            {
                "erp_reference": ref,
                "product_code": "IM-GRN-500",
                "quantity": "400",
                "unit": "kg",
                "planned_start": start.isoformat(),
                "planned_end": (start + dt.timedelta(hours=10)).isoformat(),
                "line_code": "L1",
                "priority": 2,
            }
            for ref in refs
        ],
    }


def test_generated_schedule_is_valid_b2mml_and_reads_back():
    plan = _plan()
    xml = plan_to_schedule(plan)
    assert_valid(xml, "B2MML-OperationsSchedule.xsd")
    back = schedule_to_plan(xml)
    assert back["plan_id"] == plan["plan_id"]
    assert [line["erp_reference"] for line in back["lines"]] == ["4600001", "4600002"]
    assert back["lines"][0]["product_code"] == "IM-GRN-500" and back["lines"][0]["quantity"] == "400"


def test_schedule_import_creates_orders_once(db, effective_recipe, api_for):
    client = api_for("erp")
    xml = plan_to_schedule(_plan())
    url = "/api/v1/erp/b2mml/operations-schedule/"
    response = client.post(url, data=xml, content_type="application/xml")
    assert response.status_code == 201, response.content
    again = client.post(url, data=xml, content_type="application/xml")
    assert again.json()["duplicate"] is True
    assert ProductionOrder.objects.filter(erp_reference__in=["4600001", "4600002"]).count() == 2
    message = InboxMessage.objects.get()
    assert message.raw.startswith("<?xml") and message.status == InboxStatus.PROCESSED


def test_malformed_schedule_is_a_400_stored_as_failed(db, api_for):
    response = api_for("erp").post(
        "/api/v1/erp/b2mml/operations-schedule/", data=b"<OperationsSchedule><ID>x</ID>", content_type="application/xml"
    )
    assert response.status_code == 400 and "XML" in str(response.json()["errors"])
    assert InboxMessage.objects.get().status == InboxStatus.FAILED


def test_xml_entities_are_not_expanded():
    from django.core.exceptions import ValidationError

    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<OperationsSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&e;</ID></OperationsSchedule>'
    )
    with pytest.raises(ValidationError, match="DTD or entities"):
        schedule_to_plan(evil)


@pytest.fixture
def closed_batch(plant, users, password):
    """A batch that consumed two lots and produced one, then closed (state set for the test)."""
    return _produced_batch(users, password, "closed")


def _produced_batch(users, password, status):
    """A batch that consumed two lots and produced one, then put in `status` (set for the test)."""
    from audit.context import audit_context, status_change_allowed
    from materials.models import Location, Material
    from materials.services import lot_create_output, lot_issue_to_batch, lot_receive, lot_release
    from quality.seed_evidence import inspection_pass
    from tests.materials.conftest import make_batch

    api = Material.objects.get(code="RM-API-001")
    lots = []
    for qty in ("30", "50"):
        lot = lot_receive(
            user=users["warehouse"],
            material=api,
            quantity=qty,
            unit="kg",
            location=Location.objects.get(code="WH-A01"),
            expiry_date=timezone.localdate() + dt.timedelta(days=300),
        )
        inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)
        lots.append(lot_release(user=users["qc"], lot=lot, password=password))
    batch = make_batch("B-B2MML-1", Material.objects.get(code="IM-GRN-500"))
    for lot, qty in zip(lots, ("30", "10"), strict=True):
        lot_issue_to_batch(
            user=users["operator"],
            batch=batch,
            lot_code=lot.code,
            quantity=qty,
            unit="kg",
            material=api,
            required_quantity="40",
            tolerance_pct=1,
        )
    output = lot_create_output(user=users["supervisor"], batch=batch, quantity="38.5", unit="kg")
    # Batch execution (another issue) owns the batch lifecycle; the test only needs the end state.
    with audit_context(actor=users["supervisor"], action="test.close"), status_change_allowed(batch):
        batch.status = status
        batch.save()
    return batch, lots, output


def test_performance_of_a_closed_batch_round_trips_and_validates(db, closed_batch, client_for):
    batch, lots, output = closed_batch
    response = client_for("planner").get(f"/api/v1/batches/{batch.number}/b2mml-performance/")
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    assert_valid(response.content, "B2MML-OperationsPerformance.xsd")
    data = performance_read(response.content)
    assert data["batch"] == batch.number
    consumed = {(a["lot"], a["quantity"]) for a in data["actuals"] if a["use"] == "Consumed"}
    assert consumed == {(lots[0].code, Decimal("30")), (lots[1].code, Decimal("10"))}
    produced = [a for a in data["actuals"] if a["use"] == "Produced"]
    assert produced == [
        {"material": "IM-GRN-500", "lot": output.code, "use": "Produced", "quantity": Decimal("38.5"), "unit": "kg"}
    ]


def test_batch_record_export_validates_against_batchml(db, closed_batch, client_for):
    batch, _lots, _output = closed_batch
    response = client_for("qa").get(f"/api/v1/batches/{batch.number}/batchml/")
    assert response.status_code == 200
    assert_valid(response.content, "BatchML-BatchProductionRecord.xsd")
    root = etree.fromstring(response.content)
    ns = {"b": "http://www.mesa.org/xml/B2MML"}
    assert root.findtext("b:BatchID", namespaces=ns) == batch.number
    assert root.find(".//b:Events/b:Event", ns) is None  # QA may not read the audit trail
    audited = client_for("auditor").get(f"/api/v1/batches/{batch.number}/batchml/")
    assert_valid(audited.content, "BatchML-BatchProductionRecord.xsd")
    assert etree.fromstring(audited.content).find(".//b:Events/b:Event", ns) is not None


def test_open_batch_is_not_exported_and_roles_are_checked(db, plant, client_for):
    from materials.models import Material
    from tests.materials.conftest import make_batch

    batch = make_batch("B-OPEN-1", Material.objects.get(code="IM-GRN-500"))
    response = client_for("planner").get(f"/api/v1/batches/{batch.number}/b2mml-performance/")
    assert response.status_code == 400 and "not closed" in response.json()["errors"]["non_field_errors"][0]
    assert client_for("operator").get(f"/api/v1/batches/{batch.number}/batchml/").status_code == 403
    assert client_for("planner").get("/api/v1/batches/NOPE/batchml/").status_code == 404


# --- pushed to the ERP when the batch is closed for production (released or rejected) ---------------


def _performance_message(batch):
    from integrations.models import OutboxMessage

    return OutboxMessage.objects.get(system="erp", kind="production_performance", key=batch.number)


@pytest.mark.req("INT-2")
def test_release_pushes_valid_performance_to_the_erp_once(db, plant, users, password, peer):
    from batches.events import batch_closed
    from batches.services.review import batch_on_release
    from integrations.services import outbox_drain

    batch, lots, output = _produced_batch(users, password, "qc_released")
    released = batch_on_release(batch=batch, user=users["supervisor"])
    message = _performance_message(batch)
    assert message.payload["status"] == "released" and message.payload["batch"] == batch.number
    batch_closed.announce(batch=released)  # the same event again: still one message
    outbox_drain(system="erp", budget_seconds=5)
    sent = [r for r in peer.state.requests if r["path"] == "/mes/production-performance"]
    assert len(sent) == 1 and peer.resent() == 0
    document = peer.state.accepted[sent[0]["key"]]["data"]["document"].encode()
    assert_valid(document, "B2MML-OperationsPerformance.xsd")
    data = performance_read(document)
    assert data["batch"] == batch.number
    assert {a["lot"] for a in data["actuals"]} == {lots[0].code, lots[1].code, output.code}


@pytest.mark.req("INT-2")
def test_rejected_batch_reports_too_and_a_rolled_back_release_sends_nothing(db, plant, users, password):
    from django.db import transaction

    from batches.services.review import batch_on_release, batch_reject
    from integrations.models import OutboxMessage

    batch, _lots, _output = _produced_batch(users, password, "qc_released")
    with pytest.raises(RuntimeError), transaction.atomic():
        batch_on_release(batch=batch, user=users["supervisor"])
        raise RuntimeError("the release transaction failed later")
    assert not OutboxMessage.objects.filter(kind="production_performance").exists()
    batch_reject(user=users["qc"], batch=batch, password=password, reason="OOS confirmed")
    message = _performance_message(batch)
    assert message.payload["status"] == "rejected"
    assert_valid(message.payload["document"].encode(), "B2MML-OperationsPerformance.xsd")
