"""The parameters every page reads come from the shared cache together (mes.config.PER_PAGE, issue 20);
an approved change is in force on the next page all the same."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from administration.models import ConfigParameter
from administration.services.config import config_change_approve, config_propose
from mes.config import PER_PAGE

pytestmark = pytest.mark.django_db


def _idle_timeout_on_page(client) -> str:
    page = client.get(reverse("home")).content.decode()
    return page.split('data-idle-timeout="', 1)[1].split('"', 1)[0]


def test_an_approved_change_of_a_per_page_parameter_is_in_force_on_the_next_page(
    shared_cache, users, password, client_for, settings
):
    assert "auth.idle_timeout_minutes" in PER_PAGE
    qa = client_for("qa")
    assert _idle_timeout_on_page(qa) == str(settings.MES_IDLE_TIMEOUT_MINUTES * 60)
    assert cache.get("mes:config:value:auth.signature_full_first") is not None  # read with the time-out
    parameter = ConfigParameter.objects.get(name="auth.idle_timeout_minutes")
    change = config_propose(user=users["admin"], parameter_id=parameter.pk, new_value="7", reason="shorter shifts")
    config_change_approve(user=users["qa"], change_id=change.pk, password=password)
    assert _idle_timeout_on_page(qa) == "420"
