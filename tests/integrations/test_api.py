"""The REST API: token accounts, audited calls, page permissions, structured errors, inbound messages."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from integrations.models import InboxMessage, InboxStatus

pytestmark = pytest.mark.req("INT-1", "INT-2", "INT-4", "INT-5")

RESULTS = {
    "results": [
        {
            "request_id": "TR-1",
            "sample_id": "S-1",
            "test_code": "ASSAY",
            "value": "99.2",
            "unit": "%",
            "tested_at": "2026-03-01T08:00:00Z",
        }
    ]
}


def _post(client, url, body, **headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **headers)


def test_token_calls_are_audited_with_the_account_as_actor(db, api_for, accounts):
    response = api_for("lims").post(
        "/api/v1/lims/test-results/", data=json.dumps(RESULTS), content_type="application/json"
    )
    # Stored and refused (there is no inspection TR-1): a refused call is audited like any other.
    assert response.status_code == 400 and "No inspection TR-1" in response.content.decode()
    event = AuditEvent.objects.filter(action="integrations.api.post").latest("seq")
    assert event.username == "lims-link" and event.actor_id == accounts["lims"][0].user_id
    assert json.loads(event.new_values)["via"] == "token"


def test_bad_token_is_401_and_audited_no_credentials_go_to_log_in(db, accounts):
    from django.test import Client

    response = Client(HTTP_AUTHORIZATION="Token mes_not-a-real-token").get("/api/v1/messages/outbox/")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"
    assert AuditEvent.objects.filter(action="integrations.api.auth_failed", username="token:mes_not-").exists()
    response = Client().get("/api/v1/messages/outbox/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_revoked_and_rotated_tokens_stop_working(db, api_for, accounts, users):
    from django.test import Client

    from integrations.services import integration_account_rotate, integration_account_set_active

    account, old_token = accounts["erp"]
    _account, new_token = integration_account_rotate(actor=users["admin"], account_id=account.pk)
    assert Client(HTTP_AUTHORIZATION=f"Token {old_token}").get("/api/schema/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Bearer {new_token}").get("/api/schema/").status_code == 200
    integration_account_set_active(actor=users["admin"], account_id=account.pk, active=False, reason="ERP retired")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {new_token}").get("/api/schema/").status_code == 401


def test_accounts_cannot_sign_in_to_pages_and_tokens_are_not_stored(db, accounts):
    account, token = accounts["erp"]
    assert not account.user.has_usable_password()
    assert token not in account.token_hash and account.token_prefix == token[:8]


def test_account_has_only_its_roles_permissions(db, api_for):
    response = _post(api_for("lims"), "/api/v1/erp/production-plans/", {"plan_id": "P1", "lines": []})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert api_for("erp").get("/api/v1/messages/outbox/").status_code == 403
    assert not InboxMessage.objects.exists()


def test_malformed_json_is_a_clear_400_stored_as_failed(db, api_for):
    response = _post(api_for("erp"), "/api/v1/erp/production-plans/", '{"plan_id": "P-1", "lines": [')
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["errors"]
    message = InboxMessage.objects.get()
    assert message.status == InboxStatus.FAILED and message.raw.startswith('{"plan_id"')
    assert "JSON" in message.last_error


def test_invalid_fields_are_named_in_the_400_and_nothing_is_applied(db, api_for):
    plan = {"plan_id": "P-2", "lines": [{"erp_reference": "4711", "product_code": "", "quantity": "-1"}]}
    response = _post(api_for("erp"), "/api/v1/erp/production-plans/", plan)
    assert response.status_code == 400
    errors = response.json()["errors"]
    line = errors["lines"]["0"]  # errors of the first line
    assert "quantity" in line and "product_code" in line
    message = InboxMessage.objects.get()
    assert message.status == InboxStatus.FAILED and message.result["errors"]


def test_same_message_twice_is_stored_and_processed_once(db, api_for):
    client = api_for("lims")
    first = _post(client, "/api/v1/lims/test-results/", RESULTS, HTTP_IDEMPOTENCY_KEY="lims-msg-1")
    second = _post(client, "/api/v1/lims/test-results/", RESULTS, HTTP_IDEMPOTENCY_KEY="lims-msg-1")
    # Refused both times (no inspection TR-1), but stored once and processed once.
    assert first.status_code == second.status_code == 400
    assert InboxMessage.objects.count() == 1 and InboxMessage.objects.get().attempts == 1


def test_message_log_api_for_administrators(db, client_for, api_for):
    _post(api_for("lims"), "/api/v1/lims/test-results/", RESULTS)
    admin = client_for("admin")
    listing = admin.get("/api/v1/messages/inbox/?system=lims")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    pk = listing.json()["results"][0]["id"]
    assert admin.get(f"/api/v1/messages/inbox/{pk}/").json()["kind"] == "test_results"
    assert admin.get("/api/v1/messages/inbox/999999/").status_code == 404
    assert client_for("operator").get("/api/v1/messages/inbox/").status_code == 403


def test_schema_and_docs_are_served_without_a_cdn(db, client_for):
    client = client_for("operator")
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.") and "/api/v1/erp/production-plans/" in spec["paths"]
    docs = client.get("/api/docs/")
    html = docs.content.decode()
    assert docs.status_code == 200 and "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn" not in html.lower() and "unpkg" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_session_post_needs_csrf(db, users):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["planner"])
    response = _post(client, "/api/v1/erp/production-plans/", {"plan_id": "P-9", "lines": []})
    assert response.status_code == 403 and not InboxMessage.objects.exists()


def test_nul_characters_are_refused_not_a_server_error(db, api_for):
    response = _post(api_for("lims"), "/api/v1/lims/test-results/", '{"results": [{"request_id": "a\\u0000b"}]}')
    assert response.status_code == 400 and "NUL" in str(response.json()["errors"])
    assert InboxMessage.objects.get().status == InboxStatus.FAILED
    assert api_for("lims").get("/api/v1/lots/?material=%00").status_code in (400, 403)


def test_unknown_api_address_is_a_json_404(db, api_for):
    response = api_for("erp").get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_each_push_endpoint_documents_its_own_payload(db, client_for):
    spec = client_for("operator").get("/api/schema/?format=json").json()
    plans = spec["paths"]["/api/v1/erp/production-plans/"]["post"]
    results = spec["paths"]["/api/v1/lims/test-results/"]["post"]
    assert plans["summary"] == "Push a production plan" and plans["tags"] == ["ERP"]
    assert results["summary"] == "Push test results" and results["tags"] == ["LIMS"]


def test_account_command_issues_rotates_and_revokes(db, users):
    import io

    from django.core.management import call_command
    from django.test import Client

    out = io.StringIO()
    call_command("integration_account", "create", "mes-erp", "--system", "erp", "--role", "planner", stdout=out)
    token = out.getvalue().split("token ", 1)[1].split()[0]
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/orders/").status_code == 200
    call_command("integration_account", "revoke", "mes-erp", "--reason", "retired", stdout=io.StringIO())
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/orders/").status_code == 401


def test_order_list_reads_a_page_in_fixed_queries(db, users, api_for, effective_recipe):
    """No N+1 on the order list: the recipe's text names its product, read in the same query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.services import order_create
    from tests.orders.conftest import order_values

    client = api_for("erp")

    def page() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/orders/")
        assert response.status_code == 200, response.content
        return len(ctx.captured_queries), response.json()

    order_create(user=users["planner"], **order_values())
    page()  # permissions cached
    one, body = page()
    for _ in range(5):
        order_create(user=users["planner"], **order_values())
    six, body = page()
    assert body["count"] == 6
    assert all(row["recipe"].startswith("IM-GRN-500 v") for row in body["results"])
    assert six == one
