from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EquipmentConfig(AppConfig):
    name = "equipment"
    verbose_name = _("Equipment")

    def ready(self) -> None:
        from equipment.services.status import transition_lines_declare

        transition_lines_declare()
