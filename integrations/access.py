"""Access rules of the integration pages and of the REST API.

API endpoints authenticate by token (integration accounts) or by the page session; the roles
below are those that get 200 with a session, the same roles whose permissions a token account
needs. Push endpoints are POST-only.
"""

from audit.context import audit_context
from batches.models import Batch
from equipment.models import Equipment
from integrations.b2mml.performance import EXPORTABLE_STATES
from integrations.models import InboxMessage, OutboxMessage
from materials.models import Lot
from mes.access import ALL_ROLES
from mes.registry import Rule
from orders.models import ProductionOrder
from quality.access import DEV_READERS, QC_READERS  # the quality pages' roles
from quality.models import Deviation, Inspection

ADMINS = frozenset({"admin"})


def _outbox(data):
    return {"pk": OutboxMessage.objects.order_by("id").values_list("pk", flat=True).first()}


def _inbox(data):
    return {"pk": InboxMessage.objects.order_by("id").values_list("pk", flat=True).first()}


# The roles of the pages' permissions (orders.view_productionorder, materials.view_lot).
ORDER_READERS = frozenset({"planner", "supervisor", "qa", "qc", "warehouse", "analyst", "auditor"})
LOT_READERS = frozenset({"warehouse", "operator", "supervisor", "qc", "qa", "planner", "analyst", "auditor", "admin"})


def _inspection(data):
    return {"number": Inspection.objects.order_by("id").values_list("number", flat=True).first()}


def _deviation(data):
    return {"number": Deviation.objects.order_by("id").values_list("number", flat=True).first()}


EQUIPMENT_READERS = ALL_ROLES  # equipment.view_equipment: every role


def _equipment(data):
    return {"code": Equipment.objects.order_by("id").values_list("code", flat=True).first()}


def _order(data):
    return {"number": ProductionOrder.objects.order_by("id").values_list("number", flat=True).first()}


def _batch(data):
    return {"number": Batch.objects.order_by("id").values_list("number", flat=True).first()}


def _closed_batch(data):
    """A batch closed for production (released or rejected), for the two B2MML exports. The demo plant
    has none (its batches wait for release), so one is recorded for the access matrix, whose data is
    rolled back after each test. Made like the demo's own batches: a record of a product, created in its
    final state (batch execution owns the transitions; the exports only read)."""

    closed = Batch.objects.filter(status__in=EXPORTABLE_STATES).order_by("id").first()
    if closed is None:
        template = Batch.objects.select_related("product").order_by("id").first()
        with audit_context(action="access_matrix.closed_batch"):
            closed = Batch.objects.create(
                number="ACCESS-CLOSED-1",
                product=template.product,
                planned_quantity=template.planned_quantity,
                unit=template.unit,
                status="released",
            )
    return {"number": closed.number}


def _lot(data):
    return {"code": Lot.objects.order_by("id").values_list("code", flat=True).first()}


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
    "api:order-list": Rule(ORDER_READERS),
    "api:order-detail": Rule(ORDER_READERS, make_kwargs=_order),
    "api:production-plan-list": Rule(ORDER_READERS),
    "api:batch-list": Rule(ORDER_READERS),
    "api:batch-detail": Rule(ORDER_READERS, make_kwargs=_batch),
    # Only a closed batch can be exported (others: 400): the matrix gets one from _closed_batch.
    "api:batch-performance": Rule(ORDER_READERS, make_kwargs=_closed_batch),
    "api:batch-record": Rule(ORDER_READERS, make_kwargs=_closed_batch),
    "api:erp-b2mml-schedule": Rule(frozenset({"planner"}), method="post"),
    "api:equipment-list": Rule(EQUIPMENT_READERS),
    "api:equipment-detail": Rule(EQUIPMENT_READERS, make_kwargs=_equipment),
    "api:lot-list": Rule(LOT_READERS),
    "api:lot-detail": Rule(LOT_READERS, make_kwargs=_lot),
    "api:movement-list": Rule(LOT_READERS),
    "api:inspection-list": Rule(QC_READERS),
    "api:inspection-detail": Rule(QC_READERS, make_kwargs=_inspection),
    "api:inspection-sample": Rule(frozenset({"qc"}), method="post", make_kwargs=_inspection),
    "api:deviation-list": Rule(DEV_READERS),
    "api:deviation-detail": Rule(DEV_READERS, make_kwargs=_deviation),
    "api:outbox-list": Rule(ADMINS),
    "api:outbox-detail": Rule(ADMINS, make_kwargs=_outbox),
    "api:inbox-list": Rule(ADMINS),
    "api:inbox-detail": Rule(ADMINS, make_kwargs=_inbox),
}
