"""Issue 23: capture that a real plant's OPC UA servers cannot break, against a real asyncua server
(the project's simulator with a clock skew, a missing node, a text state, a bad status) and a
server that accepts connections and never answers."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from asyncua import ua
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms import modelform_factory

from audit.context import audit_context
from equipment.models import (
    CaptureAlert,
    CommState,
    EndpointHealth,
    Equipment,
    EquipmentLive,
    EquipmentTag,
    FaultReport,
    LogbookEntry,
    MachineStateMap,
    TagReading,
    TagState,
)
from equipment.opcua.config import simulated_equipment, tags_configure
from equipment.opcua.link import reset_links
from equipment.opcua.simulator import HangingServer, Simulator, SimulatorThread, free_port
from equipment.services import equipment_check_usable, opcua_poll
from equipment.services.monitoring import _lock_key
from equipment.services.tags import equipment_tags_import
from mes.changecontrol import controlled_writes, masterdata_change_approve
from mes.models import MasterDataChange

pytestmark = [pytest.mark.django_db, pytest.mark.req("EQP-9", "INT-3")]


@pytest.fixture
def endpoint():
    return f"opc.tcp://127.0.0.1:{free_port()}/mes/test"


@pytest.fixture
def machines(make_equipment, endpoint):
    """Two machines on one endpoint; the first also has three broken tags the server cannot serve."""
    reset_links()
    first, second = make_equipment("GRAN-01"), make_equipment("GRAN-02")
    for eq in (first, second):
        tags_configure(eq, endpoint)
    sim = SimulatorThread(Simulator(simulated_equipment(endpoint), endpoint, seed=7))
    sim.start()
    yield first, second, sim
    reset_links()
    sim.close()


def add_tag(eq, key, node_id, kind="process"):
    """A tag as an old admin (before validation) could have saved it: create() does not validate."""
    with audit_context(action="test.tag.create"):
        return EquipmentTag.objects.create(equipment=eq, key=key, node_id=node_id, kind=kind, label=key)


def poll(endpoint):
    (result,) = opcua_poll(endpoint=endpoint)
    return result


def rows(eq, key):
    return list(TagReading.objects.filter(tag__equipment=eq, tag__key=key).order_by("id"))


def test_a_node_id_without_namespace_is_refused_when_saved_with_a_clear_error(equipment):
    form_class = modelform_factory(EquipmentTag, fields=["equipment", "key", "node_id", "kind", "deadband"])
    data = {"equipment": equipment.pk, "key": "temp", "kind": "process", "deadband": 0}
    form = form_class(data={**data, "node_id": "EQ003.Temperature"})
    assert not form.is_valid()
    assert "not an OPC UA node id" in form.errors["node_id"][0] and "ns=" in form.errors["node_id"][0]
    for bad in ("ns=x;s=a", "ns=2;s=", "nsu=urn:x;s=a"):
        with pytest.raises(ValidationError) as err:
            EquipmentTag(equipment=equipment, key="t", node_id=bad, kind="process").full_clean()
        assert "node_id" in err.value.message_dict
    assert form_class(data={**data, "node_id": "ns=2;s=EQ003.Temperature"}).is_valid()
    EquipmentTag(equipment=equipment, key="s", node_id="mqtt:state", kind="state").full_clean()


def test_a_failing_tag_isolates_itself_and_never_stops_its_endpoint(machines, endpoint):
    first, second, sim = machines
    malformed = add_tag(first, "legacy", "EQ003.Temperature")
    unknown = add_tag(first, "ghost", "ns=2;s=GRAN-01.does_not_exist")
    sim.set("GRAN-01", "pressure", "n/a")  # a process value that arrives as text: wrong data type

    for _ in range(3):
        result = poll(endpoint)
        assert result.ok and result.tag_errors == 3
    # every good tag of both machines is stored; both machines are connected
    assert rows(first, "temperature")[0].value == 45.0 and rows(second, "temperature")[0].value == 45.0
    assert set(EquipmentLive.objects.values_list("comm_state", flat=True)) == {CommState.OK}
    # the failing tags store nothing and carry their status in words
    for tag, words in (
        (malformed, "not an OPC UA node id"),
        (unknown, "BadNodeIdUnknown: The node id refers to a node that does not exist"),
        (EquipmentTag.objects.get(equipment=first, key="pressure"), "Wrong data type"),
    ):
        assert not TagReading.objects.filter(tag=tag).exists()
        assert words in TagState.objects.get(tag=tag).error
        assert CaptureAlert.objects.filter(tag=tag, kind="tag_error", cleared_at__isnull=True).count() == 1
    # one logbook entry per failing tag, not one per poll
    assert LogbookEntry.objects.filter(equipment=first, text__contains="is not captured").count() == 3
    assert not LogbookEntry.objects.filter(equipment=second, text__contains="is not captured").exists()

    sim.set("GRAN-01", "pressure", 1.3)  # the machine sends a number again: the tag recovers
    poll(endpoint)
    pressure = EquipmentTag.objects.get(equipment=first, key="pressure")
    assert [r.value for r in rows(first, "pressure")] == [1.3]
    assert TagState.objects.get(tag=pressure).error == ""
    assert CaptureAlert.objects.get(tag=pressure).cleared_at is not None


def test_a_bad_status_is_recorded_once_as_a_status_change_not_every_poll(machines, endpoint):
    first, _second, sim = machines
    poll(endpoint)
    sim.sim.equipment["GRAN-01"].tags["temperature"].status = ua.StatusCodes.BadSensorFailure
    sim.set("GRAN-01", "temperature", 45.0)
    for _ in range(4):
        sim.set("GRAN-01", "temperature", 45.0)  # the PLC restamps the bad value every cycle
        poll(endpoint)
    statuses = [r.status_code for r in rows(first, "temperature")]
    assert statuses == [0, ua.StatusCodes.BadSensorFailure]
    sim.sim.equipment["GRAN-01"].tags["temperature"].status = ua.StatusCodes.Good
    sim.set("GRAN-01", "temperature", 45.0)
    poll(endpoint)
    assert [r.status_code for r in rows(first, "temperature")] == [0, ua.StatusCodes.BadSensorFailure, 0]


def test_a_machine_clock_ahead_is_stored_flagged_alerted_once_and_hides_no_later_data(machines, endpoint):
    first, second, sim = machines
    poll(endpoint)
    sim.sim.clock_skew = dt.timedelta(seconds=600)
    for value in (46.0, 47.0):
        sim.set("GRAN-01", "temperature", value)
        poll(endpoint)
    sim.sim.clock_skew = dt.timedelta(0)  # the PLC's clock is corrected
    for value in (48.0, 49.0):
        sim.set("GRAN-01", "temperature", value)
        poll(endpoint)
    stored = rows(first, "temperature")
    assert [r.value for r in stored] == [45.0, 46.0, 47.0, 48.0, 49.0]  # nothing dropped
    assert [r.clock_suspect for r in stored] == [False, True, True, False, False]
    assert all(r.server_ts is not None for r in stored)  # both timestamps kept
    clock = CaptureAlert.objects.filter(equipment=first, kind="clock")
    assert clock.count() == 1 and clock.get().cleared_at is not None
    assert not CaptureAlert.objects.filter(equipment=second).exists()
    from equipment.services import equipment_latest_reading

    assert equipment_latest_reading(equipment=first, tag_key="temperature").value == 49.0


def test_text_states_are_mapped_per_class_fault_drives_the_fault_flow_unmapped_alerted_once(machines, endpoint):
    first, second, sim = machines
    sim.set("GRAN-01", "state", "Running")
    poll(endpoint)
    assert EquipmentLive.objects.get(equipment=first).machine_state == "running"
    assert rows(first, "state")[-1].text_value == "Running"

    sim.set("GRAN-01", "state", "Setup")
    for _ in range(3):
        poll(endpoint)
    live = EquipmentLive.objects.get(equipment=first)
    assert live.machine_state == "unknown" and live.state_unmapped and live.state_raw == "Setup"
    assert CaptureAlert.objects.filter(equipment=first, kind="unmapped_state").count() == 1

    with audit_context(action="test.statemap", reason="new machine software"):
        MachineStateMap.objects.create(equipment_class=first.equipment_class, value="SETUP", state="idle")
    poll(endpoint)
    live = EquipmentLive.objects.get(equipment=first)
    assert live.machine_state == "idle" and not live.state_unmapped
    assert CaptureAlert.objects.get(equipment=first, kind="unmapped_state").cleared_at is not None

    sim.set("GRAN-01", "state", "FAULT")  # no alarm tag raised: the state alone is a fault
    sim.set("GRAN-02", "state", 2)  # a numeric fault code on the other machine
    for _ in range(2):
        poll(endpoint)
    for eq in (first, second):
        assert FaultReport.objects.filter(equipment=eq, source="alarm").count() == 1
        assert not equipment_check_usable(equipment=eq).ok
        assert LogbookEntry.objects.filter(equipment=eq, kind="fault").exists()


def test_a_hanging_endpoint_is_bounded_and_delays_no_other_endpoint(machines, endpoint, make_equipment):
    first, _second, _sim = machines
    hung = HangingServer()
    try:
        stuck = make_equipment("GRAN-09")
        with controlled_writes("test: wire the equipment to a hanging endpoint"):
            tags_configure(stuck, hung.url)
        results = {r.endpoint: r for r in opcua_poll()}
    finally:
        hung.close()
    assert results[endpoint].ok and results[endpoint].stored == 16
    assert not results[hung.url].ok and results[hung.url].error
    lost = EquipmentLive.objects.get(equipment=stuck)
    assert lost.comm_state == CommState.LOST
    # the healthy endpoint's values were stored before the hanging one gave up
    assert max(r.received_at for r in TagReading.objects.filter(tag__equipment=first)) < lost.comm_changed_at
    health = {h.url: h for h in EndpointHealth.objects.all()}
    assert health[endpoint].last_good_at and health[endpoint].connected
    assert health[hung.url].failures == 1 and health[hung.url].last_good_at is None


@pytest.mark.postgres  # the endpoint's lease is a PostgreSQL advisory lock
def test_a_poll_never_overlaps_the_previous_one_of_its_endpoint(machines, endpoint):
    """Another worker holds the endpoint: this tick is skipped and counted, nothing read twice."""
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"], autocommit=True
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [_lock_key(endpoint)])
        result = poll(endpoint)
        assert result.busy and not result.ok and result.stored == 0
        assert EndpointHealth.objects.get(url=endpoint).skipped_polls == 1
        other.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(endpoint)])
    finally:
        other.close()
    assert poll(endpoint).ok


def test_deadband_memory_is_shared_in_the_database_not_per_worker(machines, endpoint):
    first, _second, sim = machines
    poll(endpoint)
    temperature = EquipmentTag.objects.get(equipment=first, key="temperature")
    assert TagState.objects.get(tag=temperature).value == 45.0
    reset_links()  # a different worker: a fresh connection and no memory of its own
    sim.set("GRAN-01", "temperature", 45.1)  # within the deadband of what any worker stored
    assert poll(endpoint).stored == 0
    sim.set("GRAN-01", "temperature", 45.3)
    assert poll(endpoint).stored == 1


def test_tag_errors_and_endpoint_health_are_shown_in_words(
    machines, endpoint, client_for, django_assert_max_num_queries
):
    from django.urls import reverse

    first, _second, sim = machines
    add_tag(first, "ghost", "ns=2;s=GRAN-01.does_not_exist")
    sim.set("GRAN-01", "temperature", 45.0)
    sim.sim.equipment["GRAN-01"].tags["speed"].status = ua.StatusCodes.BadSensorFailure
    sim.set("GRAN-01", "speed", 120.0)
    poll(endpoint)
    page = client_for("operator").get(reverse("equipment:detail", args=[first.pk])).content.decode()
    assert "BadNodeIdUnknown: The node id refers to a node that does not exist" in page
    assert "BadSensorFailure" in page and "0x8" not in page  # the status in words, not a number
    admin = client_for("admin")
    with django_assert_max_num_queries(40):
        status = admin.get(reverse("administration:status")).content.decode()
    assert endpoint in status and "Skipped polls (overlap)" in status and "is not captured" in status


def test_the_tag_browser_shows_variables_and_proposes_the_picked_one_effective_on_approval(
    machines, client_for, users, password
):
    from django.urls import reverse

    first, _second, _sim = machines
    admin = client_for("admin")
    url = reverse("equipment:tag_browser", args=[first.pk])
    top = admin.get(url).content.decode()
    assert "GRAN-01" in top and "ns=2;s=GRAN-01" in top
    inside = admin.get(url, {"node": "ns=2;s=GRAN-01"}).content.decode()
    assert "ns=2;s=GRAN-01.temperature" in inside and "Double" in inside and "Boolean" in inside
    assert "not an OPC UA node id" in admin.get(url, {"node": "GRAN-01"}).content.decode()
    post = {"node_id": "ns=2;s=GRAN-01.temperature", "key": "temp2", "kind": "process", "label": "T", "unit": "°C"}
    response = admin.post(url, {**post, "reason": "second temperature for the batch record"})
    assert response.status_code == 302
    # Issue 16: the picked variable is a change request, not a tag, until another person approves it.
    assert not EquipmentTag.objects.filter(equipment=first, key="temp2").exists()
    change = MasterDataChange.objects.get(object_type="equipment.equipmenttag", object_id="")
    assert change.after["node_id"] == "ns=2;s=GRAN-01.temperature" and change.proposed_by.username == "admin"
    with pytest.raises(ValidationError, match="someone other than"):
        masterdata_change_approve(user=change.proposed_by, change_id=change.pk, password=password)
    masterdata_change_approve(user=users["qa"], change_id=change.pk, password=password)
    tag = EquipmentTag.objects.get(equipment=first, key="temp2")
    assert tag.node_id == "ns=2;s=GRAN-01.temperature" and tag.unit == "°C"
    assert client_for("operator").get(url).status_code == 403


def test_tags_imported_from_csv_are_checked_all_or_nothing_and_proposed_effective_on_approval(
    make_equipment, client_for, users, password
):
    from django.urls import reverse

    make_equipment("GRAN-01")
    make_equipment("GRAN-02")
    admin = client_for("admin")
    header = "equipment,endpoint,key,node_id,kind,label,unit,deadband,low,high\n"
    bad = header + (
        "GRAN-01,opc.tcp://plc1:4840,temp,ns=2;s=GRAN-01.T,process,Temp,°C,0.2,30,60\n"
        "GRAN-02,opc.tcp://plc1:4840,temp,GRAN-02.T,process,Temp,°C,0.2,30,60\n"
        "NOPE-1,,temp,ns=2;s=X,process,,,,,\n"
    )
    page = admin.post(reverse("equipment:tag_import"), {"text": bad, "reason": "plant roll-out"}).content.decode()
    assert "Line 3, node_id" in page and "Line 4: no equipment NOPE-1" in page
    assert not EquipmentTag.objects.exists()
    good = header + "".join(
        f"GRAN-0{n},opc.tcp://plc1:4840,{k},ns=2;s=GRAN-0{n}.{k},process,{k},,0.1,,\n" for n in (1, 2) for k in "ab"
    )
    response = admin.post(reverse("equipment:tag_import"), {"text": good, "reason": "plant roll-out"})
    assert response.status_code == 302
    # Issue 16: one change request per tag and per changed endpoint; nothing in force before approval.
    changes = list(MasterDataChange.objects.order_by("id"))
    assert len(changes) == 6 and not MasterDataChange.objects.exclude(status="proposed").exists()
    assert not EquipmentTag.objects.exists() and not Equipment.objects.exclude(opcua_endpoint="").exists()
    with pytest.raises(ValidationError, match="someone other than"):
        masterdata_change_approve(user=users["admin"], change_id=changes[0].pk, password=password)
    for change in changes:
        masterdata_change_approve(user=users["qa"], change_id=change.pk, password=password)
    assert EquipmentTag.objects.count() == 4
    assert set(Equipment.objects.values_list("opcua_endpoint", flat=True)) == {"opc.tcp://plc1:4840"}
    # The same file again proposes nothing; a changed limit proposes that one tag's change only.
    assert equipment_tags_import(user=users["admin"], text=good, reason="again").unchanged == 4
    narrower = good.replace("GRAN-01.a,process,a,,0.1,,", "GRAN-01.a,process,a,,0.1,20,40")
    result = equipment_tags_import(user=users["admin"], text=narrower, reason="limits after PQ")
    assert not result.errors and result.unchanged == 3 and len(result.proposed) == 1
    assert result.proposed[0].before == {"low_limit": "", "high_limit": ""}
    assert EquipmentTag.objects.get(equipment__code="GRAN-01", key="a").high_limit is None
    masterdata_change_approve(user=users["qa"], change_id=result.proposed[0].pk, password=password)
    assert EquipmentTag.objects.get(equipment__code="GRAN-01", key="a").high_limit == 40.0


def test_the_error_shown_follows_the_equipment_to_its_new_endpoint(make_equipment):
    eq = make_equipment("GRAN-07")
    dead = f"opc.tcp://127.0.0.1:{free_port()}/nothing-listens"
    with controlled_writes("test: wire the equipment to an endpoint where nothing listens"):
        tags_configure(eq, dead)
    reset_links()
    opcua_poll(endpoint=dead)
    refused = EquipmentLive.objects.get(equipment=eq).last_error
    assert "Connection" in refused or "refused" in refused
    hung = HangingServer()
    try:
        with (
            audit_context(action="test.equipment.move", reason="PLC replaced"),
            controlled_writes("test: the equipment moved to a hanging endpoint"),
        ):
            eq.opcua_endpoint = hung.url
            eq.save()
        opcua_poll(endpoint=hung.url)
    finally:
        hung.close()
        reset_links()
    live = EquipmentLive.objects.get(equipment=eq)
    assert live.comm_state == CommState.LOST and "TimeoutError" in live.last_error
    assert LogbookEntry.objects.filter(equipment=eq, text__contains="Communication lost").count() == 1
