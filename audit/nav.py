from django.utils.translation import gettext_lazy as _

# Plain data (mes.registry makes each a NavItem): the audit package sits below mes and imports none of it.
NAV = [
    {
        "label": _("Audit trail"),
        "url_name": "audit:event_list",
        "permission": "audit.view_audit_trail",
        "section": _("Compliance"),
        "icon": "🔍",
        "order": 900,
    },
    {
        "label": _("Verify audit chain"),
        "url_name": "audit:verify",
        "permission": "audit.view_audit_trail",
        "section": _("Compliance"),
        "icon": "⛓",
        "order": 910,
    },
]
