from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("Quality")

    def ready(self) -> None:
        from quality import subscribers  # the events quality acts on (lot created, fault reported)

        subscribers.subscribe()
        # Demo lots are released on evidence only quality can write (materials sits below quality).
        from materials.seed import demo_release_register
        from quality.seed import release_demo_lot

        demo_release_register(release_demo_lot)
