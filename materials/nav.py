from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(_("Materials"), "materials:material_list", "materials.view_material", _("Master data"), "🧪", 600),
    NavItem(_("Lots"), "materials:lot_list", "materials.view_lot", _("Materials"), "▦", 400),
    NavItem(_("Goods receipt"), "materials:lot_receive", "materials.receive_lot", _("Materials"), "⇩", 410),
    NavItem(_("Storage locations"), "materials:location_list", "materials.view_location", _("Materials"), "▤", 420),
    NavItem(_("Issue to batch"), "materials:issue_batches", "materials.issue_material", _("Materials"), "⚖", 430),
]
