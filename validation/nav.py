from django.utils.translation import gettext_lazy as _

from mes.registry import NavItem

NAV = [
    NavItem(
        _("Validation reports"), "validation:report_list", "validation.view_validationreport", _("Quality"), "✔", 590
    ),
]
