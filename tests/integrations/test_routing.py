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


def _use_routes(app, routes) -> None:
    """Set the routes and rebuild the router Celery caches on the app (`amqp.router`)."""
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_one_system_queue_delivers_that_system_only(peer):
    """Real Redis, a real worker listening only on integration.lims: the LIMS message is delivered,
    the ERP message waits in Redis on integration.erp (no worker there) and in the outbox."""
    import time

    import redis as redis_client
    from django.db import connection, transaction

    from integrations.models import OutboxMessage
    from integrations.services import outbox_enqueue
    from tests.integrations.workers import RedisServer, celery_workers, database_url, producer_on

    broker = RedisServer(6392).start()
    env = {"MES_CELERY_QUEUE_PER_INTEGRATION": "1", "MES_LIMS_URL": peer.url, "MES_LIMS_TOKEN": "lims-secret",
           "MES_ERP_URL": peer.url, "MES_ERP_TOKEN": "erp-secret"}  # fmt: skip
    try:
        with (
            celery_workers(
                redis_url=broker.url,
                database=database_url(connection.settings_dict),
                env=env,
                queues="integration.lims",
            ),
            producer_on(broker.url) as app,
        ):
            _use_routes(app, ("integrations.routing.route_task",))
            try:
                with transaction.atomic():
                    lims = outbox_enqueue(system="lims", kind="test_request", payload={"sample": "S-1"}, key="S-1")
                    erp = outbox_enqueue(system="erp", kind="order_completed", payload={"order": "PO-1"}, key="PO-1")
                deadline = time.monotonic() + 180  # a worker starting on a loaded machine
                while time.monotonic() < deadline and str(lims.message_id) not in peer.accepted_keys():
                    time.sleep(0.3)
            finally:
                _use_routes(app, None)  # the app's cached router must not keep them for later tests
        assert str(lims.message_id) in peer.accepted_keys(), "the LIMS worker did not deliver"
        assert str(erp.message_id) not in peer.accepted_keys()
        assert OutboxMessage.objects.get(pk=erp.pk).status == "pending"
        assert redis_client.Redis(port=broker.port).llen("integration.erp") == 1
    finally:
        broker.kill()
