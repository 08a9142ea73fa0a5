from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from audit import checks, signals  # noqa: F401

        post_migrate.connect(_after_migrate, dispatch_uid="audit.after_migrate")


def _after_migrate(sender, using="default", **kwargs):
    """Once every app has migrated (post_migrate reaches the last app with models last), every GMP table
    exists: guard each against writes without their audit event, and grant the runtime role its rights."""
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is not with_models[-1] or kwargs.get("plan") is None:
        return  # (a flush sends post_migrate without a plan: tables, triggers and grants are unchanged)
    from django.db import connections

    from audit.db import install_write_guard
    from audit.dbroles import gmp_models, runtime_grants

    install_write_guard(connections[using], gmp_models())
    runtime_grants(connections[using])
