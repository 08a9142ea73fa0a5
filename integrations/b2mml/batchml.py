"""ISA-88 Part 4 style batch record export (BatchML BatchProductionRecord) of a closed batch:
the record header, every audit event of the batch (who, when, what, why) and its production
performance (materials consumed lot by lot and produced). The audit events go only to callers who
may read the audit trail (auditors): for everyone else the record has no Events."""

from __future__ import annotations

from django.utils import timezone
from lxml import etree

from audit.models import AuditEvent
from integrations.b2mml import NS, q, sub
from integrations.b2mml.performance import check_closed, performance_element
from materials.models import Lot


def _entry(parent, entry_id: str, object_type: str, when, description: str = "") -> None:
    sub(parent, "EntryID", entry_id)
    sub(parent, "ObjectType", object_type)
    if when:
        sub(parent, "TimeStamp", when.isoformat())
    if description:
        sub(parent, "Description", description)


def batch_to_batchml(batch, *, include_audit: bool = False) -> bytes:
    """The batch record; its audit events only with `include_audit` (the caller may read the trail)."""

    check_closed(batch)
    now = timezone.now()
    record_id = f"BPR-{batch.number}"
    root = etree.Element(q("BatchProductionRecord"), nsmap={None: NS})
    sub(root, "ID", record_id)
    _entry(root, record_id, "Batch Production Record", now, f"Batch record of {batch.number}")
    if batch.line_id:
        sub(root, "EquipmentScope", batch.line.code)
    sub(root, "PublishedDate", now.isoformat())
    sub(root, "CreationDate", batch.created_at.isoformat())
    sub(root, "BatchID", batch.number)
    output = Lot.objects.filter(produced_by=batch).values_list("code", flat=True).first()
    if output:
        sub(root, "LotID", output)
    sub(root, "MaterialDefinitionID", batch.product.code)
    sub(root, "RecordStatus", batch.status)
    if include_audit:
        _events(root, AuditEvent.objects.filter(object_type="batches.batch", object_id=str(batch.pk)).order_by("seq"))
    performances = sub(root, "OperationsPerformances")
    record = sub(performances, "OperationsPerformanceRecord")
    _entry(record, f"{record_id}-PERF", "Other", now, "Production performance")
    performance_element(batch, sub(record, "OperationsPerformance"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _events(root, trail) -> None:
    events = sub(root, "Events")
    for event in trail:
        element = sub(events, "Event")
        _entry(element, f"AUD-{event.seq}", "Event", event.timestamp, event.action)
        sub(element, "EventType", "Operator" if event.actor_id else "General")
        sub(element, "EventSubType", "Modification")
        if event.new_values:
            value = sub(element, "Value")
            sub(value, "ValueString", event.new_values)
        if event.old_values:
            previous = sub(element, "PreviousValue")
            sub(previous, "ValueString", event.old_values)
        if event.reason:
            sub(element, "MessageText", event.reason)
        sub(element, "PersonID", event.username)
