from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(_("QC worklist"), "quality:worklist", "quality.view_inspection", _("Quality"), "🧪", 390),
    NavItem(_("Deviations"), "quality:deviation_list", "quality.view_deviation", _("Quality"), "⚠", 400),
    NavItem(_("CAPA board"), "quality:capa_board", "quality.view_capa", _("Quality"), "✔", 410),
    NavItem(_("Release cockpit"), "quality:release_list", "quality.view_batchrelease", _("Quality"), "🔓", 420),
    NavItem(
        _("Nonconforming product"), "quality:disposition_list", "quality.view_disposition", _("Quality"), "⛔", 425
    ),
    NavItem(_("Specifications"), "quality:spec_list", "quality.view_specification", _("Quality"), "📐", 430),
]
