"""Hostile input answered as data: each bad body is a 4xx `application/problem+json` with a request id,
leaves an inbox record with its error, and changes nothing; a huge `limit` is cut to the maximum page
size; an unexpected error is a 500 problem, never an HTML page."""

from __future__ import annotations

import json

import pytest

from integrations.models import InboxMessage, InboxStatus
from orders.models import ProductionOrder
from tests.integrations.test_domain_links import PLANS, _plan

pytestmark = pytest.mark.req("INT-1")
PROBLEM = "application/problem+json"


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:mes:problem:") and body["title"]
    assert body["request_id"] and body["request_id"] == response["X-Request-ID"]
    return body


def _plan_text(value: str) -> str:
    """A plan whose quantity is `value`, written as raw JSON text (json.dumps cannot write these)."""
    plan = _plan("PP-HOSTILE", refs=("4509001",))
    return json.dumps(plan).replace('"quantity": "400"', f'"quantity": {value}')


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_plan_text("NaN"), "NaN"),
        (_plan_text("Infinity"), "Infinity"),
        (_plan_text("-Infinity"), "-Infinity"),
        (_plan_text("1e999"), "too large"),
        (_plan_text('"\\ud800"'), "lone surrogate"),
        ('{"plan_id": "PP-DEEP", "lines": ' + "[" * 600 + "]" * 600 + "}", "nested"),
        ("{not json", "not valid JSON"),
    ],
    ids=["nan", "infinity", "minus-infinity", "1e999", "lone-surrogate", "nested-600", "broken"],
)
def test_bad_json_is_a_problem_an_inbox_record_and_nothing_changes(db, effective_recipe, api_for, body, reason):
    response = api_for("erp").post(PLANS, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="bad-1")
    problem = _assert_problem(response, 400)
    assert reason in json.dumps(problem["errors"])
    message = InboxMessage.objects.get(pk=problem["inbox_message"])
    assert message.status == InboxStatus.FAILED and reason in message.last_error and message.payload is None
    assert message.raw  # what was sent is kept, as text
    assert not ProductionOrder.objects.filter(erp_reference="4509001").exists()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999", '"\\ud800"', "[" * 600 + "]" * 600])
def test_every_api_view_parses_with_the_strict_parser(value):
    """The domain endpoints read `request.data` through DRF's configured parsers: the same refusals."""
    from django.test import RequestFactory
    from rest_framework.exceptions import ParseError
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    raw = RequestFactory().post("/api/v1/x/", data='{"note": ' + value + "}", content_type="application/json")
    request = Request(raw, parsers=[parser() for parser in api_settings.DEFAULT_PARSER_CLASSES])
    with pytest.raises(ParseError):
        request.data  # noqa: B018 - parsing happens on access


@pytest.mark.parametrize("limit", [str(2**63), str(2**64 + 7), "2^63", "-1"])
def test_huge_limit_is_cut_to_the_maximum_page_size(db, api_for, limit):
    from integrations.api.pagination import MAX_PAGE_SIZE
    from integrations.services import outbox_enqueue

    for i in range(3):
        outbox_enqueue(system="erp", kind="order_completed", payload={"i": i}, key=f"L-{i}")
    for path in ("/api/v1/orders/", "/api/v1/lots/", "/api/v1/batches/"):
        response = api_for("erp").get(path, {"limit": limit, "offset": str(2**63)})
        assert response.status_code in (200, 403), (path, response.content[:200])
    response = api_for("erp").get("/api/v1/orders/", {"limit": limit})
    assert response.status_code == 200 and len(response.json()["results"]) <= MAX_PAGE_SIZE


def test_unknown_api_url_is_a_problem_not_an_html_page(db, api_for):
    _assert_problem(api_for("erp").get("/api/v1/no-such-thing/"), 404)


def test_an_unexpected_error_is_a_500_problem_with_the_request_id(db, users, api_for, monkeypatch):
    """A fault injected into the message-log query (the only way to make a correct view fail)."""
    from integrations.api import views

    def broken(self):
        raise RuntimeError("database exploded: secret details")

    monkeypatch.setattr(views.InboxListView, "get_queryset", broken)
    from django.test import Client

    admin = Client(raise_request_exception=False)
    admin.force_login(users["admin"])
    response = admin.get("/api/v1/messages/inbox/", HTTP_X_REQUEST_ID="req-fault-0001")
    body = _assert_problem(response, 500)
    assert body["request_id"] == "req-fault-0001" and "secret" not in response.content.decode()


def test_an_idempotency_key_is_scoped_by_system_and_kind(db, plant, api_for):
    """A WMS stock-status message reusing a receipt's key is another message, processed."""
    client = api_for("wms")
    receipt = {
        "receipt_id": "GR-8001",
        "material_code": "RM-EXC-010",
        "supplier": "JRS Pharma",
        "supplier_lot": "JRS-3301",
        "quantity": "50",
        "unit": "kg",
        "location": "WH-A02",
        "received_at": "2026-03-01T08:00:00Z",
    }
    first = client.post(
        "/api/v1/wms/receipts/", data=json.dumps(receipt), content_type="application/json", HTTP_IDEMPOTENCY_KEY="K-1"
    )
    assert first.status_code == 201, first.content
    lot = first.json()["result"]["lot"]
    stock = client.post(
        "/api/v1/wms/stock-status/",
        data=json.dumps({"lot_number": lot, "quantity": "50"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="K-1",
    )
    assert stock.status_code == 201 and stock.json()["duplicate"] is False
    assert InboxMessage.objects.filter(system="wms", message_id="K-1").count() == 2
    again = client.post(
        "/api/v1/wms/receipts/", data=json.dumps(receipt), content_type="application/json", HTTP_IDEMPOTENCY_KEY="K-1"
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True  # same system, kind and key: once


def test_a_body_larger_than_the_server_accepts_is_a_413_problem(db, api_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = '{"plan_id": "PP-BIG", "note": "' + "x" * 20_000 + '"}'
    response = api_for("erp").post(PLANS, data=body, content_type="application/json")
    assert _assert_problem(response, 413)["code"] == "too_large"
    assert not ProductionOrder.objects.exists()
