from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = _("Batches")

    def ready(self) -> None:
        # A released order's batches are made by this app's service (orders sits below batches).
        from batches.services import batch_create_from_order
        from orders.batching import batch_maker_register

        batch_maker_register(batch_create_from_order)
        # The operator's material issue screen lists the batch's BOM lines scaled to its size.
        from batches.services.preparation import batch_bom_lines
        from materials.requirements import register_provider

        register_provider(batch_bom_lines)
        # Materials issues to, dispenses for, locks and traces batches without importing this app.
        from batches.models import Batch, BatchStatus
        from materials.batch_source import batch_source_register

        batch_source_register(batches=Batch.objects.all, status_choices=lambda: BatchStatus.choices)
        # A critical parameter read from the machine outside its limits during a batch opens a deviation.
        from batches.services.excursions import excursion_on_reading
        from equipment.services.capture import reading_hook_register

        reading_hook_register(excursion_on_reading)
