"""B2MML OperationsPerformance for a closed batch: what was consumed (lot by lot, net of returns)
and what was produced, under the order it answers."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from integrations.b2mml import NS, q, sub
from materials.models import EntryType, LedgerEntry, Lot

# A batch is closed for production once released or rejected: its record is reviewed, approved and
# final (only archiving follows). "closed" has no transition into it today but is final too.
EXPORTABLE_STATES = ("released", "rejected", "closed", "archived")


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _quantity(parent, amount: Decimal, unit: str) -> None:
    quantity = sub(parent, "Quantity")
    sub(quantity, "QuantityString", f"{amount.normalize():f}")
    sub(quantity, "UnitOfMeasure", unit)


def batch_performance_data(batch) -> dict:
    """The batch's facts for the document, read with a fixed number of queries."""
    entries = LedgerEntry.objects.filter(
        batch=batch, entry_type__in=[EntryType.ISSUE, EntryType.RETURN]
    ).select_related("lot__material")
    consumed: dict[tuple, Decimal] = defaultdict(Decimal)
    for entry in entries:
        sign = 1 if entry.entry_type == EntryType.ISSUE else -1
        consumed[(entry.lot.material.code, entry.lot.code, entry.lot.unit)] += sign * entry.quantity
    window = LedgerEntry.objects.filter(batch=batch).aggregate(start=Min("created_at"), end=Max("created_at"))
    produced = [
        (lot.material.code, lot.code, lot.quantity_received, lot.unit)
        for lot in Lot.objects.filter(produced_by=batch).select_related("material").order_by("id")
    ]
    return {
        "consumed": [(m, lot, q_, u) for (m, lot, u), q_ in sorted(consumed.items()) if q_ > 0],
        "produced": produced,
        "start": window["start"] or batch.created_at,
        "end": window["end"] or batch.created_at,
    }


def check_closed(batch) -> None:
    if batch.status not in EXPORTABLE_STATES:
        raise ValidationError(
            _("Batch %(batch)s is not closed: its production performance is reported once it is.")
            % {"batch": batch.number}
        )


def batch_to_performance(batch) -> bytes:
    """The OperationsPerformance document of a closed batch."""
    check_closed(batch)
    root = performance_element(batch, etree.Element(q("OperationsPerformance"), nsmap={None: NS}))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def performance_element(batch, root):
    """Fill `root` (an OperationsPerformance element) with the batch's performance."""
    data = batch_performance_data(batch)
    order = batch.order
    sub(root, "ID", f"{batch.number}-PERF")
    sub(root, "Description", f"Production performance of batch {batch.number}")
    if batch.line_id:
        scope = sub(root, "HierarchyScope")
        sub(scope, "EquipmentID", batch.line.code)
        sub(scope, "EquipmentElementLevel", "ProductionLine")
    sub(root, "OperationsType", "Production")
    sub(root, "StartTime", _iso(data["start"]))
    sub(root, "EndTime", _iso(data["end"]))
    sub(root, "PerformanceState", "Completed")
    sub(root, "PublishedDate", _iso(timezone.now()))
    response = sub(root, "OperationsResponse")
    sub(response, "ID", batch.number)
    sub(response, "OperationsType", "Production")
    if order is not None:
        sub(response, "OperationsRequestID", order.erp_reference or order.number)
    sub(response, "StartTime", _iso(data["start"]))
    sub(response, "EndTime", _iso(data["end"]))
    sub(response, "ResponseState", "Completed")
    segment = sub(response, "SegmentResponse")
    sub(segment, "ID", f"{batch.number}-1")
    sub(segment, "ActualStartTime", _iso(data["start"]))
    sub(segment, "ActualEndTime", _iso(data["end"]))
    sub(segment, "SegmentState", "Completed")
    for material, lot, amount, unit in data["consumed"]:
        actual = sub(segment, "MaterialActual")
        sub(actual, "MaterialDefinitionID", material)
        sub(actual, "MaterialLotID", lot)
        sub(actual, "MaterialUse", "Consumed")
        _quantity(actual, amount, unit)
    for material, lot, amount, unit in data["produced"]:
        actual = sub(segment, "MaterialActual")
        sub(actual, "MaterialDefinitionID", material)
        sub(actual, "MaterialLotID", lot)
        sub(actual, "MaterialUse", "Produced")
        _quantity(actual, amount, unit)
    return root


def performance_read(xml: bytes) -> dict:
    """Read back an OperationsPerformance (round-trip checks and receiving systems' tests)."""
    root = etree.fromstring(xml)
    ns = {"b": NS}
    actuals = [
        {
            "material": a.findtext("b:MaterialDefinitionID", namespaces=ns),
            "lot": a.findtext("b:MaterialLotID", namespaces=ns),
            "use": a.findtext("b:MaterialUse", namespaces=ns),
            "quantity": Decimal(a.findtext("b:Quantity/b:QuantityString", namespaces=ns)),
            "unit": a.findtext("b:Quantity/b:UnitOfMeasure", namespaces=ns),
        }
        for a in root.iterfind(".//b:MaterialActual", ns)
    ]
    return {
        "batch": root.findtext("b:OperationsResponse/b:ID", namespaces=ns),
        "order": root.findtext("b:OperationsResponse/b:OperationsRequestID", namespaces=ns),
        "actuals": actuals,
    }
