"""ERP tasks: pull released production plans on a schedule (beat: integrations-erp-plan-pull)."""

from __future__ import annotations

from celery import shared_task

from integrations.erp.services import erp_plans_pull as pull


@shared_task
def erp_plans_pull() -> dict:
    return pull()
