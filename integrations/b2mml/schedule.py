"""B2MML OperationsSchedule <-> the ERP production plan message.

Each OperationsRequest is one plan line: its ID is the ERP reference, its HierarchyScope the
production line, its Start/EndTime the planned window, its Priority the priority, and the
SegmentRequirement's MaterialRequirement with MaterialUse "Produced" names the product and
quantity. The import turns the document into the same plan payload the JSON endpoint takes, so
the same handler (and the same idempotency by ERP reference) applies.

What comes in is checked before anything is mapped: parsed first by defusedxml (no DTD, no entity
of any kind, declared or not: a reference the sender meant must not silently vanish), then
validated against the shipped V0700 XSDs, and only Production schedules are taken.
"""

from __future__ import annotations

from functools import cache

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree

from integrations.b2mml import NS, XSD_DIR, q, safe_parser, sub

PRODUCED = {"Produced", "Material Produced"}
PRODUCTION = "Production"
MAX_SCHEMA_ERRORS = 5


@cache
def schedule_schema() -> etree.XMLSchema:
    """The B2MML V0700 OperationsSchedule schema (and the BODs around it), from the shipped XSDs."""
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "B2MML-OperationsSchedule.xsd")))


def _screen(xml: bytes) -> None:
    """defusedxml first: refuse any DTD, entity declaration or entity reference, and malformed XML."""
    try:
        SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ValidationError(
            _("The document declares a DTD or entities, which are not accepted (%(what)s).")
            % {"what": exc.__class__.__name__}
        ) from None
    except SafeET.ParseError as exc:
        if "undefined entity" in str(exc):
            raise ValidationError(
                _("The document refers to an entity that is not defined: %(error)s") % {"error": exc}
            ) from None
        raise ValidationError(_("The document is not well-formed XML: %(error)s") % {"error": exc}) from None
    except (ValueError, LookupError) as exc:  # e.g. an encoding the parser does not know
        raise ValidationError(_("The document is not well-formed XML: %(error)s") % {"error": exc}) from None


def _validate(root) -> None:
    schema = schedule_schema()
    if schema.validate(root):
        return
    errors = [f"{_('line')} {e.line}: {e.message}" for e in list(schema.error_log)[:MAX_SCHEMA_ERRORS]]
    raise ValidationError(
        _("The document is not valid B2MML V0700 (OperationsSchedule): %(errors)s") % {"errors": "; ".join(errors)}
    )


def _refuse_other_types(schedule) -> None:
    """Only Production requests become production orders (not Maintenance, Quality, Inventory, ...)."""
    default = _text(schedule, "b:OperationsType")
    for request in schedule.findall("b:OperationsRequest", {"b": NS}):
        kind = _text(request, "b:OperationsType") or default
        if kind != PRODUCTION:
            raise ValidationError(
                _(
                    "Operations request %(id)s is of type “%(type)s”: only Production schedules are "
                    "imported as production orders."
                )
                % {"id": _text(request, "b:ID") or "?", "type": kind or _("not given")}
            )


def _text(element, path: str) -> str:
    found = element.find(path, {"b": NS})
    return (found.text or "").strip() if found is not None and found.text else ""


def schedule_to_plan(xml: bytes) -> dict:
    """Parse, validate and map an OperationsSchedule (bare or inside a Process/Sync BOD) to a plan
    payload; raise ValidationError saying why a document is refused."""
    _screen(xml)
    try:
        root = etree.fromstring(xml, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ValidationError(_("The document is not well-formed XML: %(error)s") % {"error": exc}) from None
    schedule = root if root.tag == q("OperationsSchedule") else root.find(".//b:OperationsSchedule", {"b": NS})
    if schedule is None:
        raise ValidationError(_("The document has no B2MML OperationsSchedule."))
    _validate(root)
    _refuse_other_types(schedule)
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
