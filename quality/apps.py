from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("Quality")

    def ready(self) -> None:
        from quality import subscribers  # the events quality acts on (lot created, fault reported)

        subscribers.subscribe()
        # Batch execution asks quality through batches.services.hooks (quality sits above batches).
        from batches.services.hooks import quality_register
        from quality.selectors import deviations_linked, open_deviations_for
        from quality.services.deviations import deviation_raise
        from quality.services.dispositions import disposition_lock_for_rework, disposition_rework_started
        from quality.services.release import batch_production_release, batch_qc_release

        quality_register(
            deviation_raise=deviation_raise,
            open_deviations_for=open_deviations_for,
            deviations_linked=deviations_linked,
            release_decisions={"qc_release": batch_qc_release, "release": batch_production_release},
            rework_authority_lock=disposition_lock_for_rework,
            rework_started=disposition_rework_started,
        )
        # Demo lots are released on evidence only quality can write (materials sits below quality).
        from materials.seed import demo_release_register
        from quality.seed import release_demo_lot

        demo_release_register(release_demo_lot)
