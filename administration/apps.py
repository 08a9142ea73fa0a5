from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AdministrationConfig(AppConfig):
    name = "administration"
    verbose_name = _("System administration")

    def ready(self) -> None:
        from administration import signals  # noqa: F401 - alert and retention receivers
        from administration.services.passwords import password_signing_refusal
        from audit.signatures import signing_refusal_register

        signing_refusal_register(password_signing_refusal)

        post_migrate.connect(_after_migrate, dispatch_uid="administration.after_migrate")


def _after_migrate(sender, using="default", **kwargs):
    # Once every app has migrated, every GMP table exists: protect them all (new apps included),
    # and bring the parameter catalogue in line with the code's definitions.
    # (post_migrate is sent only to apps that have a models module.)
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is not with_models[-1]:
        return
    from django.db import connections

    from administration.retention import retention_install
    from administration.services.parameters import parameters_sync

    retention_install(connections[using])
    parameters_sync()
