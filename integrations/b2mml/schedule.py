"""B2MML OperationsSchedule <-> the ERP production plan message.

Each OperationsRequest is one plan line: its ID is the ERP reference, its HierarchyScope the
production line, its Start/EndTime the planned window, its Priority the priority, and the
SegmentRequirement's MaterialRequirement with MaterialUse "Produced" names the product and
quantity. The import turns the document into the same plan payload the JSON endpoint takes, so
the same handler (and the same idempotency by ERP reference) applies.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree

from integrations.b2mml import NS, q, safe_parser, sub

PRODUCED = {"Produced", "Material Produced"}


def _text(element, path: str) -> str:
    found = element.find(path, {"b": NS})
    return (found.text or "").strip() if found is not None and found.text else ""


def schedule_to_plan(xml: bytes) -> dict:
    """Parse an OperationsSchedule (bare or inside a Process/Sync BOD) into a plan payload."""
    try:
        root = etree.fromstring(xml, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ValidationError(_("The document is not well-formed XML: %(error)s") % {"error": exc}) from None
    schedule = root if root.tag == q("OperationsSchedule") else root.find(".//b:OperationsSchedule", {"b": NS})
    if schedule is None:
        raise ValidationError(_("The document has no B2MML OperationsSchedule."))
    lines = []
    for request in schedule.findall("b:OperationsRequest", {"b": NS}):
        produced = None
        for requirement in request.iterfind(".//b:MaterialRequirement", {"b": NS}):
            if _text(requirement, "b:MaterialUse") in PRODUCED:
                produced = requirement
                break
        line = {
            "erp_reference": _text(request, "b:ID"),
            "line_code": _text(request, "b:HierarchyScope/b:EquipmentID"),
            "planned_start": _text(request, "b:StartTime"),
            "planned_end": _text(request, "b:EndTime"),
            "product_code": _text(produced, "b:MaterialDefinitionID") if produced is not None else "",
            "quantity": _text(produced, "b:Quantity/b:QuantityString") if produced is not None else "",
            "unit": _text(produced, "b:Quantity/b:UnitOfMeasure") if produced is not None else "",
        }
        priority = _text(request, "b:Priority")
        if priority:
            line["priority"] = priority
        lines.append(line)
    return {"plan_id": _text(schedule, "b:ID"), "lines": lines}


def plan_to_schedule(plan: dict) -> bytes:
    """The reverse mapping (what an ERP would send): used by tests and the demo."""
    root = etree.Element(q("OperationsSchedule"), nsmap={None: NS})
    sub(root, "ID", plan["plan_id"])
    sub(root, "OperationsType", "Production")
    sub(root, "ScheduleState", "Released")
    for line in plan["lines"]:
        request = sub(root, "OperationsRequest")
        sub(request, "ID", line["erp_reference"])
        scope = sub(request, "HierarchyScope")
        sub(scope, "EquipmentID", line["line_code"])
        sub(scope, "EquipmentElementLevel", "ProductionLine")
        sub(request, "OperationsType", "Production")
        sub(request, "StartTime", line["planned_start"])
        sub(request, "EndTime", line["planned_end"])
        if line.get("priority") is not None:
            sub(request, "Priority", line["priority"])
        sub(request, "RequestState", "Released")
        segment = sub(request, "SegmentRequirement")
        sub(segment, "ID", f"{line['erp_reference']}-1")
        material = sub(segment, "MaterialRequirement")
        sub(material, "MaterialDefinitionID", line["product_code"])
        sub(material, "MaterialUse", "Produced")
        quantity = sub(material, "Quantity")
        sub(quantity, "QuantityString", line["quantity"])
        sub(quantity, "UnitOfMeasure", line["unit"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
