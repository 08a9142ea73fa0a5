"""Who may open each equipment page (the access-matrix test walks these for every role)."""

from django.apps import apps

from equipment.access_fixture import ensure_access_fixture
from mes.registry import Rule

VIEWERS = frozenset(
    {"planner", "supervisor", "operator", "qc", "qa", "maintenance", "warehouse", "analyst", "auditor", "admin"}
)
CLEANERS = frozenset({"operator", "supervisor"})
MAINTAINERS = frozenset({"maintenance"})
REQUALIFIERS = frozenset({"supervisor", "maintenance", "qa"})
STATUS_MANAGERS = frozenset({"supervisor", "maintenance"})
OEE = frozenset({"supervisor", "qa", "planner", "analyst"})


def _first(model_name: str, **filters):
    def make(data):
        ensure_access_fixture()
        return {"pk": apps.get_model("equipment", model_name).objects.filter(**filters).order_by("pk").first().pk}

    return make


EQ = _first("Equipment")
ACCESS = {
    "equipment:board": Rule(VIEWERS),
    "equipment:board_tiles": Rule(VIEWERS),
    "equipment:detail": Rule(VIEWERS, make_kwargs=EQ),
    "equipment:end_use": Rule(frozenset({"operator", "supervisor"}), make_kwargs=EQ, method="post"),
    "equipment:cleaning_start": Rule(CLEANERS, make_kwargs=EQ),
    "equipment:cleaning_finish": Rule(CLEANERS, make_kwargs=EQ),
    "equipment:fault_new": Rule(frozenset({"operator", "supervisor", "maintenance"}), make_kwargs=EQ),
    "equipment:daily_check": Rule(frozenset({"operator", "supervisor", "maintenance"}), make_kwargs=EQ),
    "equipment:calibration_new": Rule(MAINTAINERS, make_kwargs=EQ),
    "equipment:out_of_service": Rule(STATUS_MANAGERS, make_kwargs=EQ),
    "equipment:return_to_service": Rule(STATUS_MANAGERS, make_kwargs=EQ),
    "equipment:requalify": Rule(REQUALIFIERS, make_kwargs=EQ),
    "equipment:workorders": Rule(VIEWERS),
    "equipment:pm_plans": Rule(VIEWERS),
    "equipment:workorder_detail": Rule(VIEWERS, make_kwargs=_first("WorkOrder")),
    "equipment:workorder_create": Rule(MAINTAINERS, make_kwargs=_first("FaultReport"), method="post"),
    "equipment:fault_dismiss": Rule(MAINTAINERS, make_kwargs=_first("FaultReport")),
    "equipment:calibration_due": Rule(VIEWERS),
    "equipment:cleaning_due": Rule(VIEWERS),
    "equipment:oee": Rule(OEE),
    # tags are master data: the system administrator configures them (tag browser, CSV import)
    "equipment:tag_browser": Rule(frozenset({"admin"}), make_kwargs=EQ),
    "equipment:tag_import": Rule(frozenset({"admin"})),
    # equipment records are proposed as change requests (approved by QA)
    "equipment:equipment_import": Rule(frozenset({"admin", "qa", "maintenance", "supervisor"})),
}
