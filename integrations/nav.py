from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(
        _("Integration messages"),
        "integrations:message_list",
        "integrations.view_message_log",
        _("Administration"),
        "⇄",
        950,
    ),
]
