from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mes.registry import NavItem

SECTION = _("Equipment")
NAV = [
    NavItem(_("Equipment status"), "equipment:board", "equipment.view_equipment", SECTION, "▦", 300),
    NavItem(
        pgettext_lazy("navigation", "Maintenance"),
        "equipment:workorders",
        "equipment.maintain_equipment",
        SECTION,
        "🔧",
        310,
    ),
    NavItem(_("Preventive maintenance"), "equipment:pm_plans", "equipment.maintain_equipment", SECTION, "🗓", 315),
    NavItem(_("Cleaning due"), "equipment:cleaning_due", "equipment.clean_equipment", SECTION, "🧽", 320),
    NavItem(_("Calibration due"), "equipment:calibration_due", "equipment.calibrate_equipment", SECTION, "⚖", 330),
    NavItem(_("OEE"), "equipment:oee", "equipment.view_oee", SECTION, "📈", 340),
]
