"""An equipment fault while a batch runs opens a deviation linked to the equipment and the batch (QC-7)."""

import pytest

from equipment.services.maintenance import fault_report
from equipment.services.status import equipment_start_use
from quality.selectors import open_deviations_for
from tests.equipment.conftest import equipment, make_batch, make_equipment, plant, products  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.req("QC-7", "QC-3")
def test_fault_during_a_batch_opens_a_linked_deviation(users, equipment, make_batch):  # noqa: F811
    batch = make_batch()
    equipment_start_use(equipment=equipment, batch=batch, user=users["operator"], step="Granulation")
    fault_report(equipment=equipment, user=users["operator"], description="Impeller motor overload")
    (dev,) = open_deviations_for("batches.batch", batch.pk)
    assert dev.source == "equipment" and dev.classification == "major"
    assert list(open_deviations_for("equipment.equipment", equipment.pk)) == [dev]


def test_plant_alarm_during_a_batch_is_raised_by_the_system(users, equipment, make_batch):  # noqa: F811
    batch = make_batch()
    equipment_start_use(equipment=equipment, batch=batch, user=users["operator"])
    fault_report(
        equipment=equipment, user=None, description="Alarm 17", source="alarm", alarm_code="17", alarm_key="k1"
    )
    (dev,) = open_deviations_for("batches.batch", batch.pk)
    assert dev.raised_by is None


def test_fault_on_idle_equipment_raises_no_deviation(users, equipment):  # noqa: F811
    fault_report(equipment=equipment, user=users["operator"], description="Noise")
    assert not open_deviations_for("equipment.equipment", equipment.pk).exists()
