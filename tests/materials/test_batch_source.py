"""materials reaches batches through the source the batches app registers (issue 22: no import of
batches from materials), and the source is refused loudly when nobody registered it."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from batches.models import Batch, BatchStatus
from materials import batch_source


def test_the_batches_app_registers_its_batches_and_status_names():
    assert batch_source.batches().model is Batch
    assert batch_source.batch_status_choices() == list(BatchStatus.choices)
    assert batch_source.batch_status_label(BatchStatus.IN_PROGRESS) == str(BatchStatus.IN_PROGRESS.label)
    assert batch_source.batch_status_label("no-such-status") == "no-such-status"


def test_without_a_registered_source_materials_refuses(monkeypatch):
    monkeypatch.setattr(batch_source, "_SOURCE", {})
    with pytest.raises(ImproperlyConfigured):
        batch_source.batches()
    with pytest.raises(ImproperlyConfigured):
        batch_source.batch_status_label(BatchStatus.READY)
