from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(_("Materials"), "materials:material_list", "materials.view_material", _("Master data"), "🧪", 600),
]
