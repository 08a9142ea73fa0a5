from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(_("Plant dashboard"), "reports:dashboard", "reports.view_dashboard", _("Reports"), "▥", 800),
    NavItem(_("Production report"), "reports:production", "reports.view_report", _("Reports"), "▤", 810),
    NavItem(_("Generated reports"), "reports:report_list", "reports.view_report", _("Reports"), "🗎", 820),
    NavItem(_("My subscriptions"), "reports:subscriptions", "reports.view_subscription", _("Reports"), "✉", 830),
]
