import importlib.util
import pkgutil
from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from integrations.api import schema  # noqa: F401 - registers the token's OpenAPI description

        subscribe_partners()
        # The outbox queues its delivery task, which wraps the outbox (integrations.tasks imports it).
        from integrations.services.outbox import outbox_dispatch_task_register
        from integrations.tasks import outbox_dispatch

        outbox_dispatch_task_register(outbox_dispatch)
        # The System status page (administration, which may not import this app) shows the outbox and inbox.
        from integrations.status import integration_state
        from mes.health import status_provider_register

        status_provider_register("integrations", integration_state)


def subscribe_partners() -> list[str]:
    """Import each partner package's `subscribers` module (integrations/<partner>/subscribers.py): its
    functions subscribe to the domain events (mes.events) they map to that partner's messages. A new
    partner system is a new package here; no domain app changes."""
    found = []
    for info in pkgutil.iter_modules(import_module("integrations").__path__):
        name = f"integrations.{info.name}.subscribers"
        if info.ispkg and importlib.util.find_spec(name) is not None:
            import_module(name)
            found.append(name)
    return found
