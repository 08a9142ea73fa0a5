"""The System status page (administration) shows the integrations' outbox and inbox through the
provider the integrations app registers in mes.health (siblings do not import each other)."""

import pytest

from administration.services.status import integration_state
from mes import health


@pytest.mark.django_db
def test_the_integrations_app_provides_its_outbox_and_inbox_state():
    state = integration_state()
    assert state is not None and state["outbox_dead"] == 0 and state["inbox_failed"] == 0 and state["ok"] is True


def test_without_a_provider_the_page_shows_no_integration_state(monkeypatch):
    monkeypatch.setattr(health, "_STATUS_PROVIDERS", {})
    assert integration_state() is None
    health.status_provider_register("integrations", lambda: {"outbox_dead": 3})
    assert integration_state() == {"outbox_dead": 3}
