"""Celery routing: one queue per external system (opt-in: MES_CELERY_QUEUE_PER_INTEGRATION=1).

With it, each system's deliveries and pulls go to its own queue `integration.<system>`, served by
its own worker (docker-compose.scale.yml: worker-erp, worker-lims, ...), so an ERP that answers
slowly or times out never holds up LIMS or QMS messages, and each queue can be scaled on its own.
Without it, every task goes to the default queue (one worker serves everything: `make run`).
Nothing is lost either way: the outbox row is the record and the sweeper re-queues due messages.
"""

from __future__ import annotations

QUEUE_PREFIX = "integration."
# Tasks that always belong to one system, whatever their arguments.
SYSTEM_OF_TASK = {"integrations.erp.tasks.erp_plans_pull": "erp"}


def integration_queue(system: str) -> str:
    return f"{QUEUE_PREFIX}{system}"


def route_task(name, args, kwargs, options, task=None, **kw):
    """Celery router (CELERY_TASK_ROUTES): the queue of an integration task, None for the rest."""
    if name == "integrations.tasks.outbox_dispatch":
        system = args[0] if args else (kwargs or {}).get("system")
        return {"queue": integration_queue(system)} if system else None
    if name in SYSTEM_OF_TASK:
        return {"queue": integration_queue(SYSTEM_OF_TASK[name])}
    return None
