from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

SECTION = _("Administration")

NAV = [
    NavItem(_("My account"), "administration:my_account", None, _("Account"), "🙍", 990),
    NavItem(_("Users"), "administration:user_list", "administration.manage_users", SECTION, "👤", 950),
    NavItem(
        _("Role grant requests"),
        "administration:role_request_list",
        "administration.view_rolerequest",
        SECTION,
        "🛡",
        952,
    ),
    NavItem(_("Configuration"), "administration:config_list", "administration.view_configparameter", SECTION, "⚙", 955),
    NavItem(_("Change requests"), "administration:change_list", "administration.view_configchange", SECTION, "✎", 956),
    NavItem(_("Master data changes"), "administration:masterdata_list", "mes.view_masterdatachange", SECTION, "✎", 957),
    NavItem(
        _("Configuration review"),
        "administration:config_review",
        "administration.review_configuration",
        SECTION,
        "📋",
        960,
    ),
    NavItem(_("Access review"), "administration:access_review", "administration.review_access", SECTION, "🔑", 965),
    NavItem(_("Security alerts"), "administration:alert_list", "administration.view_securityalert", SECTION, "⚠", 970),
    NavItem(_("System status"), "administration:status", "administration.view_system_status", SECTION, "🖥", 975),
]
