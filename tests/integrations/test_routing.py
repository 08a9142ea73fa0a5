"""Queues per integration (docs/deployment.md): Celery's own router sends each system's tasks to
`integration.<system>` when the routing is configured, and everything else to the default queue."""

from __future__ import annotations

import pytest
from celery import Celery

pytestmark = pytest.mark.req("INT-1", "INT-2", "INT-4", "INT-5")


def _router(routes):
    app = Celery("routing-test", set_as_current=False)
    app.conf.task_routes = routes
    app.conf.task_default_queue = "celery"
    return app.amqp.router


@pytest.mark.parametrize("system", ["erp", "lims", "qms", "wms"])
def test_outbox_delivery_of_each_system_goes_to_its_own_queue(system):
    router = _router(("integrations.routing.route_task",))
    by_args = router.route({}, "integrations.tasks.outbox_dispatch", args=(system,), kwargs={})
    by_kwargs = router.route({}, "integrations.tasks.outbox_dispatch", args=(), kwargs={"system": system})
    assert by_args["queue"].name == by_kwargs["queue"].name == f"integration.{system}"


def test_erp_pull_goes_to_the_erp_queue_and_other_tasks_stay_on_the_default_queue():
    router = _router(("integrations.routing.route_task",))
    assert router.route({}, "integrations.erp.tasks.erp_plans_pull", args=(), kwargs={})["queue"].name == (
        "integration.erp"
    )
    for name in ("integrations.tasks.outbox_sweep", "equipment.tasks.poll_opcua", "audit.tasks.audit_checkpoint"):
        assert router.route({}, name, args=(), kwargs={})["queue"].name == "celery"


def test_without_the_setting_everything_uses_the_default_queue():
    from django.conf import settings

    assert not getattr(settings, "CELERY_TASK_ROUTES", None)  # the test settings leave it off (make run)
    router = _router(())
    assert router.route({}, "integrations.tasks.outbox_dispatch", args=("lims",), kwargs={})["queue"].name == "celery"
