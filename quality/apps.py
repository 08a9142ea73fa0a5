from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("Quality")

    def ready(self) -> None:
        from quality import subscribers  # the events quality acts on (lot created, fault reported)

        subscribers.subscribe()
