"""The message log page for administrators: list, filters, detail, replay; home-page cards."""

from __future__ import annotations

import pytest
from django.db import transaction

from audit.models import AuditEvent
from integrations.models import InboxMessage, OutboxMessage, OutboxStatus
from integrations.services import inbox_accept, outbox_enqueue
from tests.browser_fixtures import login, screenshot

pytestmark = pytest.mark.req("INT-1", "INT-5")


def _messages():
    with transaction.atomic():
        for i in range(30):
            outbox_enqueue(system="erp", kind="order_completed", payload={"order": f"PO-{i}"}, key=f"PO-{i}")
    dead = OutboxMessage.objects.get(key="PO-0")
    OutboxMessage.objects.filter(pk=dead.pk).update(
        status=OutboxStatus.DEAD, attempts=10, last_error="HTTP 502: bad gateway"
    )
    failed = inbox_accept(system="erp", kind="production_plan", message_id="m-1", payload={"plan_id": "P", "lines": []})
    return dead, failed


def test_message_log_lists_filters_without_n_plus_one(db, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("admin")
    client.get("/integrations/messages/?direction=outbox")  # session, permissions cached

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/integrations/messages/?direction=outbox").status_code == 200
        return len(ctx.captured_queries)

    with transaction.atomic():
        outbox_enqueue(system="erp", kind="order_completed", payload={"order": "PO-X"}, key="PO-X")
    few = queries()
    _messages()  # 30 more rows on the page
    assert queries() == few  # the page's queries do not grow with its rows
    response = client.get("/integrations/messages/?direction=outbox")
    assert response.content.count(b"order_completed") >= 30
    dead = client.get("/integrations/messages/?direction=outbox&status=dead")
    assert b"HTTP 502" in dead.content and dead.content.count(b"order_completed") == 1
    inbox = client.get("/integrations/messages/?direction=inbox&status=failed")
    assert b"production_plan" in inbox.content


def test_detail_shows_payload_error_and_replays_a_dead_letter(db, client_for, peer):
    dead, failed = _messages()
    client = client_for("admin")
    page = client.get(f"/integrations/messages/outbox/{dead.pk}/")
    assert b"HTTP 502" in page.content and b"PO-0" in page.content and b'data-testid="replay"' in page.content
    response = client.post(f"/integrations/messages/outbox/{dead.pk}/replay/", {"reason": "ERP fixed"})
    assert response.status_code == 302
    dead.refresh_from_db()
    assert dead.status in ("pending", "delivered") and dead.replayed_count == 1
    assert AuditEvent.objects.filter(action="integrations.outbox.replay", reason="ERP fixed").exists()
    inbox_page = client.get(f"/integrations/messages/inbox/{failed.pk}/")
    assert b"lines" in inbox_page.content  # the field error is shown


def test_replay_of_a_failed_inbound_message_after_the_fix(db, client_for):
    message = inbox_accept(system="lims", kind="test_results", message_id="r-1", payload={"results": "x"})
    assert message.status == "failed"
    # The sender cannot fix our stored copy; an administrator replays after fixing the cause.
    response = client_for("admin").post(f"/integrations/messages/inbox/{message.pk}/replay/", {"reason": "retry"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.attempts == 2 and message.status == "failed"


def test_only_administrators_see_and_replay(db, client_for):
    dead, _failed = _messages()
    assert client_for("operator").get("/integrations/messages/").status_code == 403
    assert client_for("qa").post(f"/integrations/messages/outbox/{dead.pk}/replay/").status_code == 403
    assert InboxMessage.objects.count() == 1


def test_home_cards_for_the_administrator(db, client_for):
    _messages()
    response = client_for("admin").get("/")
    assert b"dead letters" in response.content


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_message_log_in_the_browser(new_page, users, password):
    dead, _failed = _messages()
    page, problems = new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(page, "admin", password)
    page.goto("/integrations/messages/?direction=outbox")
    screenshot(page, "integrations-message-log")
    page.goto(f"/integrations/messages/outbox/{dead.pk}/")
    screenshot(page, "integrations-dead-letter")
    page.fill("#replay-reason", "ERP is back")
    page.click('[data-testid="replay"]')
    page.wait_for_selector(".msg")
    screenshot(page, "integrations-replayed")
    problems.check()
    dead.refresh_from_db()
    assert dead.replayed_count == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_render_under_the_content_security_policy(new_page, users, password):
    page, problems = new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    external = []
    page.on(
        "request", lambda r: external.append(r.url) if "127.0.0.1" not in r.url and "localhost" not in r.url else None
    )
    login(page, "planner", password)
    page.goto("/api/docs/")
    page.wait_for_selector("#swagger-ui .opblock", timeout=20000)
    screenshot(page, "integrations-api-docs")
    assert page.locator("text=/api/v1/orders/").count() > 0
    assert not external, f"requests left the server: {external}"  # no CDN
    problems.check()
