"""B2MML OperationsSchedule import refuses what it should: XSD-invalid documents, schedules that are
not Production, DTDs and entities (declared or not); and an ERP revision of an order it already sent
follows the order amendment rule: amended (and recorded) before release, refused with the reason after."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from integrations.b2mml.schedule import plan_to_schedule
from integrations.models import InboxMessage, InboxStatus
from orders.models import ProductionOrder
from tests.integrations.test_b2mml import _plan
from tests.orders.conftest import advance

pytestmark = pytest.mark.req("INT-1")
URL = "/api/v1/erp/b2mml/operations-schedule/"
PROBLEM = "application/problem+json"


def _post(client, xml: bytes):
    return client.post(URL, data=xml, content_type="application/xml")


def _refused(response, words: str) -> InboxMessage:
    assert response.status_code == 400, response.content[:400]
    assert response["Content-Type"].startswith(PROBLEM) and response.json()["request_id"]
    assert words in str(response.json()["errors"])
    message = InboxMessage.objects.get(pk=response.json()["inbox_message"])
    assert message.status == InboxStatus.FAILED and words in message.last_error
    return message


def _schedule(refs=("4700001", "4700002"), quantity="400", plan=None) -> bytes:
    plan = copy.deepcopy(plan or _plan(refs))
    for line in plan["lines"]:
        line["quantity"] = quantity
    return plan_to_schedule(plan)


def test_a_document_failing_the_xsd_creates_nothing(db, effective_recipe, api_for):
    xml = _schedule().replace(b"<RequestState>Released</RequestState>", b"<Colour>blue</Colour>")
    _refused(_post(api_for("erp"), xml), "not valid B2MML V0700")
    assert not ProductionOrder.objects.filter(erp_reference__startswith="47000").exists()


@pytest.mark.parametrize(
    ("kind", "words"),
    [("Maintenance", "only Production schedules"), ("Quality", "only Production"), ("Forecast", "not valid B2MML")],
)
def test_a_schedule_that_is_not_production_is_refused(db, effective_recipe, api_for, kind, words):
    xml = _schedule().replace(
        b"<OperationsType>Production</OperationsType>", f"<OperationsType>{kind}</OperationsType>".encode()
    )
    _refused(_post(api_for("erp"), xml), words)
    assert not ProductionOrder.objects.filter(erp_reference__startswith="47000").exists()


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<OperationsSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&e;</ID></OperationsSchedule>',
            "DTD or entities",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "4700009">]>'
            b'<OperationsSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&e;</ID></OperationsSchedule>',
            "DTD or entities",
        ),
        (None, "not defined"),  # an entity used but never declared: not silently dropped ("XXE-")
    ],
    ids=["external-entity", "internal-entity", "undefined-entity"],
)
def test_entities_are_refused_not_expanded_nor_dropped(db, effective_recipe, api_for, xml, words):
    if xml is None:
        xml = _schedule(refs=("XXE-",)).replace(b"<ID>XXE-</ID>", b"<ID>XXE-&payload;</ID>")
    _refused(_post(api_for("erp"), xml), words)
    assert not ProductionOrder.objects.filter(erp_reference__startswith="XXE").exists()


def test_erp_revision_amends_the_order_before_release_and_is_refused_after(
    db, effective_recipe, api_for, users, client_for
):
    client = api_for("erp")
    plan = _plan(("4700101",))  # the same planned window in every revision below
    assert _post(client, _schedule(plan=plan)).status_code == 201
    order = ProductionOrder.objects.get(erp_reference="4700101")
    assert order.planned_quantity == 400

    revised = _post(client, _schedule(plan=plan, quantity="450"))
    assert revised.status_code == 201, revised.content
    (line,) = revised.json()["result"]["orders"]
    assert line["action"] == "amended" and line["changes"]["planned_quantity"] == "450.000"  # the reply says which
    order.refresh_from_db()
    assert order.planned_quantity == 450
    event = AuditEvent.objects.filter(object_id=str(order.pk), reason__startswith="ERP plan").last()
    assert event is not None and event.username == "erp-link"  # recorded, with the ERP plan as the reason
    page = client_for("planner").get(reverse("orders:order_detail", args=[order.pk]))
    assert "ERP plan PS-2026-W14" in page.content.decode()  # the planner sees the ERP's amendment in the history

    order = advance(order, "released", users)
    refused = _refused(_post(client, _schedule(plan=plan, quantity="600")), "is refused")
    assert "released" in refused.last_error and order.number in refused.last_error
    order.refresh_from_db()
    assert order.planned_quantity == 450  # unchanged
    log = client_for("admin").get(reverse("integrations:message_list") + "?direction=inbox&status=failed")
    assert "is refused" in log.content.decode()

    resent = _post(client, _schedule(plan=plan, quantity="450"))  # the amending document again: a duplicate
    assert resent.status_code == 200 and resent.json()["duplicate"] is True
    later = {**plan, "plan_id": "PS-2026-W15"}  # a later schedule repeating the line as the order is
    same = _post(client, _schedule(plan=later, quantity="450"))
    assert same.status_code == 201 and same.json()["result"]["orders"][0]["action"] == "unchanged"


def test_batch_record_export_has_audit_events_only_for_who_may_read_the_trail(db, plant, users, password, client_for):
    from lxml import etree

    from tests.integrations.test_b2mml import _produced_batch

    batch, _lots, _output = _produced_batch(users, password, "closed")
    ns = {"b": "http://www.mesa.org/xml/B2MML"}
    url = f"/api/v1/batches/{batch.number}/batchml/"
    for role in ("planner", "supervisor", "qc", "qa", "warehouse", "analyst"):
        response = client_for(role).get(url)
        assert response.status_code in (200, 403), role
        if response.status_code == 200:
            assert etree.fromstring(response.content).find(".//b:Events", ns) is None, role
    audited = client_for("auditor").get(url)
    assert etree.fromstring(audited.content).find(".//b:Events/b:Event", ns) is not None


def test_integration_tokens_get_no_audit_events_in_the_batch_record(db, plant, users, password, api_for):

    from tests.integrations.test_b2mml import _produced_batch

    batch, _lots, _output = _produced_batch(users, password, "closed")
    for system in ("erp", "lims", "qms", "wms"):
        response = api_for(system).get(f"/api/v1/batches/{batch.number}/batchml/")
        assert response.status_code in (200, 403)
        if response.status_code == 200:
            assert b"<Events" not in response.content and b"AUD-" not in response.content
