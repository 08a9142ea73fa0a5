"""A tests-only Celery task (registered when tests.sample is installed, as in tests.settings)."""

from celery import shared_task


@shared_task(ignore_result=True)
def sample_effect(key: str) -> bool:
    from tests.sample.services import sample_effect_apply

    return sample_effect_apply(key=key)
