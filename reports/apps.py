from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # The batch-closed hook: a closed batch gets its production report (BAT-15).
        from reports import signals  # noqa: F401
