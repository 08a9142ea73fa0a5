from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(_("Production orders"), "orders:order_list", "orders.view_productionorder", _("Production"), "📋", 100),
    NavItem(_("Order approval"), "orders:approval_queue", "orders.approve_productionorder", _("Production"), "✔", 105),
    NavItem(_("Master batch records"), "orders:recipe_list", "orders.view_recipe", _("Production"), "📘", 110),
    NavItem(_("Recipe approval"), "orders:recipe_review_queue", "orders.approve_recipe", _("Quality"), "🖋", 115),
    NavItem(_("Training records"), "orders:training_list", "orders.view_trainingrecord", _("Production"), "🎓", 120),
    NavItem(_("Production lines"), "orders:line_list", "mes.view_line", _("Master data"), "🏭", 610),
]
