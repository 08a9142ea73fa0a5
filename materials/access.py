"""Who gets each materials page (others get 403)."""

from materials.batch_source import batches
from materials.models import Location, Lot, Material
from mes.registry import Rule

VIEWERS = frozenset({"warehouse", "operator", "supervisor", "qc", "qa", "planner", "analyst", "auditor", "admin"})
TRACERS = frozenset({"warehouse", "supervisor", "qc", "qa", "analyst", "auditor"})
ISSUERS = frozenset({"operator", "supervisor"})


MASTER_EDITORS = frozenset({"qa", "admin"})


def _material(data) -> dict:
    return {"pk": Material.objects.order_by("pk").values_list("pk", flat=True).first()}


def _lot(data) -> dict:
    code = (data or {}).get("lot_code") or Lot.objects.order_by("id").values_list("code", flat=True).first()
    return {"code": code}


def _location(data) -> dict:
    return {
        "code": (data or {}).get("location_code")
        or Location.objects.order_by("id").values_list("code", flat=True).first()
    }


def _batch(data) -> dict:
    return {
        "number": (data or {}).get("batch_number") or batches().order_by("id").values_list("number", flat=True).first()
    }


ACCESS = {
    "materials:material_list": Rule(VIEWERS),
    "materials:material_create": Rule(MASTER_EDITORS),
    "materials:material_edit": Rule(MASTER_EDITORS, make_kwargs=_material),
    "materials:lot_list": Rule(VIEWERS),
    "materials:lot_receive": Rule(frozenset({"warehouse"})),
    "materials:lot_detail": Rule(VIEWERS, make_kwargs=_lot),
    "materials:lot_trace": Rule(TRACERS, make_kwargs=_lot),
    "materials:trace_csv": Rule(TRACERS, make_kwargs=_lot),
    "materials:trace_pdf": Rule(TRACERS, make_kwargs=_lot),
    "materials:location_list": Rule(VIEWERS),
    "materials:location_detail": Rule(VIEWERS, make_kwargs=_location),
    "materials:issue_batches": Rule(ISSUERS),
    "materials:issue_screen": Rule(ISSUERS, make_kwargs=_batch),
    "materials:dispense_screen": Rule(ISSUERS, make_kwargs=_batch),
    "materials:dispense_weight": Rule(ISSUERS, make_kwargs=_batch),
    "materials:batch_balance": Rule(TRACERS, make_kwargs=_batch),
}
