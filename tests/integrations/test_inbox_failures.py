"""No inbound message stays stuck: whatever makes processing fail, the message is marked failed with
the error in words, shows on the message log and System status, and an administrator can replay it
once the cause is fixed (the replay audited as theirs, the order still the ERP's)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from integrations.models import InboxMessage, InboxStatus
from integrations.services import inbox_replay, integration_account_set_active
from orders.models import ProductionOrder
from tests.integrations.test_domain_links import _plan

pytestmark = pytest.mark.req("INT-1")


def _pull() -> dict:
    from integrations.erp.tasks import erp_plans_pull

    return erp_plans_pull.delay().get()


def test_revoked_erp_account_fails_the_plan_in_words_and_replay_creates_the_order_once_reactivated(
    db, effective_recipe, peer, accounts, users, client_for
):
    admin = users["admin"]
    account = accounts["erp"][0]
    integration_account_set_active(actor=admin, account_id=account.pk, active=False, reason="Credentials leaked")
    peer.state.plans = [_plan("PP-300", refs=("4500301",))]

    assert _pull()["status"] == "ok"
    message = InboxMessage.objects.get(kind="production_plan")
    assert message.status == InboxStatus.FAILED  # not left "received"
    assert "no active integration account" in message.last_error
    assert not ProductionOrder.objects.filter(erp_reference="4500301").exists()

    page = client_for("admin").get(reverse("integrations:message_list") + "?direction=inbox&status=failed")
    assert "no active integration account" in page.content.decode()
    status = client_for("admin").get(reverse("administration:status"))
    assert status.context["s"]["integrations"]["inbox_failed"] == 1
    assert 'data-testid="status-inbox"' in status.content.decode()

    _pull()  # the next tick does not apply it behind the administrator's back
    inbox_replay(actor=admin, message_id=message.pk, reason="Try again")  # the cause is not fixed yet
    message.refresh_from_db()
    assert message.status == InboxStatus.FAILED and message.attempts == 2
    assert not ProductionOrder.objects.filter(erp_reference="4500301").exists()

    integration_account_set_active(actor=admin, account_id=account.pk, active=True, reason="New credentials issued")
    inbox_replay(actor=admin, message_id=message.pk, reason="ERP link re-activated")
    message.refresh_from_db()
    assert message.status == InboxStatus.PROCESSED and message.last_error == ""
    order = ProductionOrder.objects.get(erp_reference="4500301")
    replays = AuditEvent.objects.filter(action="integrations.inbox.replay", object_id=str(message.pk))
    assert replays.count() == 2 and {e.username for e in replays} == {"admin"}
    assert replays.order_by("seq").last().reason == "ERP link re-activated"
    created = AuditEvent.objects.filter(object_type__icontains="productionorder", object_id=str(order.pk)).first()
    assert created is not None and created.username == account.user.username  # the ERP's order, not the admin's

    _pull()
    assert ProductionOrder.objects.filter(erp_reference="4500301").count() == 1
    with pytest.raises(ValidationError, match="Processed"):
        inbox_replay(actor=admin, message_id=message.pk)  # done: nothing left to replay


def test_replay_of_an_inbound_message_needs_the_permission(db, effective_recipe, peer, accounts, users):
    from django.core.exceptions import PermissionDenied

    integration_account_set_active(actor=users["admin"], account_id=accounts["erp"][0].pk, active=False, reason="x")
    peer.state.plans = [_plan("PP-301", refs=("4500302",))]
    _pull()
    message = InboxMessage.objects.get(kind="production_plan")
    with pytest.raises(PermissionDenied):
        inbox_replay(actor=users["planner"], message_id=message.pk)
    assert not AuditEvent.objects.filter(action="integrations.inbox.replay").exists()
