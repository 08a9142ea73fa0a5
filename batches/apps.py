from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = _("Batches")

    def ready(self) -> None:
        # The operator's material issue screen lists the batch's BOM lines scaled to its size.
        from batches.services.preparation import batch_bom_lines
        from materials.requirements import register_provider

        register_provider(batch_bom_lines)
