"""Access rules of the integration pages and of the REST API.

API endpoints authenticate by token (integration accounts) or by the page session; the roles
below are those that get 200 with a session, the same roles whose permissions a token account
needs. Push endpoints are POST-only.
"""

from mes.access import ALL_ROLES
from mes.registry import Rule

ADMINS = frozenset({"admin"})


def _outbox(data):
    from integrations.models import OutboxMessage

    return {"pk": OutboxMessage.objects.order_by("id").values_list("pk", flat=True).first()}


def _inbox(data):
    from integrations.models import InboxMessage

    return {"pk": InboxMessage.objects.order_by("id").values_list("pk", flat=True).first()}


ACCESS = {
    "integrations:message_list": Rule(ADMINS),
    "integrations:outbox_detail": Rule(ADMINS, make_kwargs=_outbox),
    "integrations:outbox_replay": Rule(ADMINS, method="post", make_kwargs=_outbox),
    "integrations:inbox_detail": Rule(ADMINS, make_kwargs=_inbox),
    "integrations:inbox_replay": Rule(ADMINS, method="post", make_kwargs=_inbox),
    # --- REST API ---
    "api:schema": Rule(ALL_ROLES),
    "api:docs": Rule(ALL_ROLES),
    "api:erp-production-plans": Rule(frozenset({"planner"}), method="post"),
    "api:lims-test-results": Rule(frozenset({"qc"}), method="post"),
    "api:qms-capa-decisions": Rule(frozenset({"qa"}), method="post"),
    "api:wms-receipts": Rule(frozenset({"warehouse"}), method="post"),
    "api:wms-stock-status": Rule(frozenset({"warehouse"}), method="post"),
    "api:outbox-list": Rule(ADMINS),
    "api:outbox-detail": Rule(ADMINS, make_kwargs=_outbox),
    "api:inbox-list": Rule(ADMINS),
    "api:inbox-detail": Rule(ADMINS, make_kwargs=_inbox),
}
