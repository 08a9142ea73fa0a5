"""The tests-only service behind the redelivery fault test: an idempotent effect per task key."""

from __future__ import annotations

import os

from django.db import transaction

from tests.sample.models import SampleDelivery, SampleEffect


def sample_effect_apply(*, key: str) -> bool:
    """Apply task `key`'s effect once. A redelivered task finds the row and changes nothing; each run
    that got as far as committing is logged, so the test sees the redeliveries."""
    with transaction.atomic():
        _effect, applied = SampleEffect.objects.get_or_create(key=key)
        SampleDelivery.objects.create(key=key, worker_pid=os.getpid(), applied=applied)
    return applied
