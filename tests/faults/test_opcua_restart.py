"""Fault: the OPC UA server (the bundled simulator, its own process) stops and comes back.

The equipment page shows "Communication lost" and the logbook records it once; after the server's
return the poller reconnects by itself (no restart of anything in the MES), the page shows the link
OK again and the logbook records the recovery."""

from __future__ import annotations

import socket
import sys
import time
from urllib.parse import urlparse

import pytest
from django.db import connection

from equipment.models import CommState, EquipmentLive, LogbookEntry
from equipment.opcua.config import tags_configure
from equipment.opcua.link import reset_links
from equipment.opcua.simulator import free_port
from equipment.services import opcua_poll
from equipment.services.monitoring import forget_memory
from mes.changecontrol import controlled_writes
from tests.equipment.conftest import equipment, make_equipment, plant  # noqa: F401 - fixtures
from tests.faults.report import record
from tests.faults.servers import Service, django_env, wait_until
from tests.integrations.workers import database_url

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.req("EQP-2", "INT-3")]
LOST_MARK = 'class="comm-lost"'  # the link state on the equipment page (the logbook below keeps the history)
RECOVERY_LIMIT_S = 10  # the poller's backoff reconnects within this time of the server's return


def _simulator(endpoint: str) -> Service:
    env = django_env(database_url=database_url(connection.settings_dict), redis_url="", settings="tests.settings")
    argv = [sys.executable, "manage.py", "opcua_simulator", "--url", endpoint, "--seed", "7", "--fault-rate", "0"]
    return Service(argv, env, "opcua-sim")


def _listening(endpoint: str) -> bool:
    where = urlparse(endpoint)
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((where.hostname, where.port)) == 0


def _poll_ok(endpoint: str) -> bool:
    (result,) = opcua_poll(endpoint=endpoint)
    return result.ok


@pytest.mark.django_db(transaction=True)
def test_opcua_simulator_stop_shows_communication_lost_and_recovers(equipment, client_for):  # noqa: F811
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/mes/faults"
    with controlled_writes("test: the equipment wired to the restarted simulator"):
        tags_configure(equipment, endpoint)
    forget_memory()
    reset_links()
    supervisor = client_for("supervisor")
    page = f"/equipment/{equipment.pk}/"
    sim = _simulator(endpoint)
    try:
        wait_until(lambda: _listening(endpoint), 120, 0.2, "simulator listening")
        wait_until(lambda: _poll_ok(endpoint), 30, 0.5, "first poll")
        assert LOST_MARK not in supervisor.get(page).content.decode()

        sim.stop()  # the OPC UA server goes away
        stopped = time.monotonic()
        wait_until(lambda: not _poll_ok(endpoint), 30, 0.5, "link loss detected")
        detected_s = time.monotonic() - stopped
        lost_page = supervisor.get(page).content.decode()
        for _ in range(5):  # the poller keeps trying (beat every second); backoff spares the server
            opcua_poll(endpoint=endpoint)
            time.sleep(0.2)

        sim = _simulator(endpoint)
        wait_until(lambda: _listening(endpoint), 120, 0.2, "simulator back")
        back = time.monotonic()
        wait_until(lambda: _poll_ok(endpoint), 60, 0.5, "reconnected")
        recovered_s = time.monotonic() - back
        ok_page = supervisor.get(page).content.decode()
    finally:
        sim.stop()
        reset_links()
        forget_memory()

    texts = list(LogbookEntry.objects.filter(equipment=equipment, kind="communication").values_list("text", flat=True))
    record(
        "OPC UA simulator stop/restart",
        loss_detected_s=round(detected_s, 1),
        reconnected_after_server_back_s=round(recovered_s, 1),
        logbook=texts,
    )
    assert LOST_MARK in lost_page and "Communication lost" in lost_page
    assert LOST_MARK not in ok_page
    assert EquipmentLive.objects.get(equipment=equipment).comm_state == CommState.OK
    assert len(texts) == 2 and "lost" in texts[0] and "restored" in texts[1]
    assert recovered_s < RECOVERY_LIMIT_S
