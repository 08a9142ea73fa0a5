"""Fault: Redis (cache and task broker) stops while people work.

Pages keep working (sessions are in the database; the configuration cache falls back to it), a
signed QC release done during the outage succeeds and its WMS message waits in the outbox; when Redis
is back, the tasks queued before the stop are still there (append-only file) and run, and the outbox
message is delivered once."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from integrations.models import OutboxMessage
from integrations.services import outbox_sweep
from tests.faults.report import record
from tests.faults.servers import PrivateRedis, celery_worker, django_env, gunicorn, wait_until
from tests.faults.web import WebUser
from tests.integrations.peer import Peer
from tests.integrations.workers import database_url, producer_on
from tests.materials.conftest import api, excipient, receive, wh  # noqa: F401 - fixtures
from tests.sample.models import SampleEffect
from tests.sample.tasks import sample_effect

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.req("INT-1")]
QUEUED = 200
# Pages of the QC role (the user of the scenario): lists, the work queue, the lot being released.
PAGES = ["/", "/equipment/", "/materials/", "/batches/", "/quality/specifications/", "/quality/deviations/"]


def _done() -> bool:
    """All queued tasks applied and the outbox delivered; meanwhile sweep, as beat does every 10 s
    (the dispatch that could not be queued during the outage is queued by the sweep)."""
    wms = OutboxMessage.objects.filter(system="wms")  # (the passed inspection also queued a LIMS message: no LIMS here)
    if SampleEffect.objects.count() == QUEUED and not wms.exclude(status="delivered").exists():
        return True
    outbox_sweep()
    return False


@pytest.mark.django_db(transaction=True)
def test_redis_stop_pages_work_and_queued_work_resumes(users, password, receive, excipient):  # noqa: F811
    from quality.seed_evidence import inspection_pass

    lot = receive(excipient, "50")
    inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)  # QC releases on evidence only
    broker = PrivateRedis(persistent=True).start()
    web = worker = None
    try:
        with Peer() as peer:
            env = django_env(
                database_url=database_url(connection.settings_dict),
                redis_url=broker.url,
                settings="tests.faults.web_settings",
                MES_WMS_URL=peer.url,
                MES_WMS_TOKEN="wms-secret",
                MES_OUTBOX_BACKOFF_SECONDS="1",
            )
            web, base = gunicorn(env)
            qc = WebUser(base, "qc", password)
            with producer_on(broker.url) as app, app.producer_or_acquire() as producer:
                for i in range(QUEUED):  # work that exists only in the broker (no worker runs yet)
                    sample_effect.apply_async(args=[f"q{i}"], producer=producer)

            broker.stop()
            stopped = time.monotonic()
            pages = {path: qc.get(path).status_code for path in [*PAGES, f"/materials/lots/{lot.code}/"]}
            WebUser(base, "supervisor", password)  # a new log-in works too (sessions are in the database)
            health = qc.get("/healthz")
            release = qc.post_form(
                f"/materials/lots/{lot.code}/",
                {"op": "status", "action": "release", "password": password, "reason": "tested"},
            )
            after_release = qc.get(f"/materials/lots/{lot.code}/")
            outage_s = time.monotonic() - stopped

            broker.start()  # same data directory: the append-only file is read back
            back = time.monotonic()
            survived = broker.client().llen("celery")
            worker = celery_worker(env, name="after-outage")
            with producer_on(broker.url):
                wait_until(lambda: _done(), 240, 0.5, "queued work done")
            resumed_s = time.monotonic() - back
            delivered = peer.accepted_keys()
            resent = peer.resent()
    finally:
        for process in (web, worker):
            if process is not None:
                process.stop()
        broker.destroy()

    lot.refresh_from_db()
    messages = list(OutboxMessage.objects.filter(system="wms").values_list("message_id", "status"))
    record(
        "Redis stop",
        pages_during_outage=pages,
        healthz_during_outage=health.status_code,
        release_during_outage=release.status_code,
        outage_s=round(outage_s, 1),
        tasks_queued_before_stop=QUEUED,
        tasks_in_broker_after_restart=survived,
        tasks_applied=SampleEffect.objects.count(),
        outbox_messages=len(messages),
        delivered=len(delivered),
        resent=resent,
        all_done_after_restart_s=round(resumed_s, 1),
    )
    assert all(status == 200 for status in pages.values()), pages
    assert health.status_code == 503 and health.json()["checks"]["broker"]["ok"] is False
    assert release.status_code == 302 and lot.status == "released"
    assert "released" in after_release.text.lower()
    assert survived >= QUEUED  # nothing queued was lost with the broker stop
    assert SampleEffect.objects.count() == QUEUED
    assert len(messages) == 1 and messages[0][1] == "delivered"
    assert delivered == [str(messages[0][0])] and resent == 0
