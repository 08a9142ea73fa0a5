from django.apps import AppConfig, apps
from django.conf import settings
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MesConfig(AppConfig):
    name = "mes"
    verbose_name = _("MES")

    def ready(self) -> None:
        if any(db["ENGINE"].endswith("postgresql") for db in settings.DATABASES.values()):
            from mes import pgtime  # psycopg is imported only where PostgreSQL is used

            pgtime.install()  # before any connection: timestamps parsed by psycopg's C loader
        from audit.text_safety import install_form_validator

        install_form_validator()  # names and free text refuse invisible direction controls
        # Lock-out and the signing policy for audit.signatures (the audit package imports no mes).
        from audit.signatures import account_guard_register
        from mes.security import ACCOUNT_GUARD

        account_guard_register(ACCOUNT_GUARD)
        from mes.permcache import connect_signals

        connect_signals()  # permission changes invalidate the permission caches
        from mes.changecontrol import connect_guards

        connect_guards()  # a controlled field changes only through an approved change request
        post_migrate.connect(_after_migrate, dispatch_uid="mes.sync_role_permissions")


def _after_migrate(sender, **kwargs):
    # post_migrate is sent once per app that has a models module; permissions of every app exist
    # once the last of those is done (apps without models never receive the signal).
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is with_models[-1]:
        from mes.roles import sync_role_permissions

        sync_role_permissions()
        if kwargs.get("plan") is not None:  # a flush leaves tables and triggers as they are
            from django.db import connections

            from mes.changecontrol import install_masterdata_guard

            install_masterdata_guard(connections[kwargs.get("using", "default")])
