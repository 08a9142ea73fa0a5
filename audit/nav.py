from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(_("Audit trail"), "audit:event_list", "audit.view_audit_trail", _("Compliance"), "🔍", 900),
    NavItem(_("Verify audit chain"), "audit:verify", "audit.view_audit_trail", _("Compliance"), "⛓", 910),
]
