from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [NavItem(_("Batches"), "batches:list", "batches.view_batch", _("Production"), "🧪", 130)]
