"""The SPC report on a plant that has just started recording: one batch value in the period must not
hide the machine's history of the parameter (the demo plant's SPC page showed nothing)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from audit.context import audit_context
from batches import services as s
from equipment.models import EquipmentTag, TagReading
from reports.sources import Filters, parameter_values
from tests.batches.conftest import fresh, running, setup  # noqa: F401 - fixtures
from tests.orders.conftest import plant  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.req("REP-2")]


def test_one_recorded_value_falls_back_to_the_machine_history(running, users):  # noqa: F811
    batch = running["batch"]
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    s.entry_record(user=op, entry=step.entries.get(name="Impeller speed"), value="150", version=0)
    with audit_context(action="test.tag"):
        tag = EquipmentTag.objects.create(
            equipment=running["equipment"]["GRAN"], key="speed", node_id="ns=2;s=GRAN-01.speed", kind="process"
        )
    now = timezone.now()
    for i, value in enumerate((149.0, 151.0, 150.5, 148.8, 152.1)):
        when = now - dt.timedelta(minutes=50 - 10 * i)
        TagReading.objects.create(tag=tag, value=value, source_ts=when, server_ts=when, received_at=when)
    parameter = SimpleNamespace(
        step=SimpleNamespace(recipe_id=batch.recipe_id, number=10), name="Impeller speed", equipment_tag=tag.node_id
    )
    period = Filters(timezone.localdate() - dt.timedelta(days=1), timezone.localdate())
    assert parameter_values(parameter, period) == [149.0, 151.0, 150.5, 148.8, 152.1]
    # Without a machine tag, the single recorded value is what there is (no chart, said in words).
    assert parameter_values(SimpleNamespace(**{**vars(parameter), "equipment_tag": ""}), period) == [150.0]
