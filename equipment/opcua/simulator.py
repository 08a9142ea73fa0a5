"""A bundled OPC UA server (asyncua) that simulates the demo equipment.

Each equipment is an object with variables for its machine state (0 idle, 1 running, 2 fault),
alarm, alarm code, good/reject counters and process values (temperature, pressure, speed...) that
drift around a set point and now and then go out of range. The simulator keeps its state in
Python, so a stopped and restarted server serves the same values with the same source
timestamps (what a real PLC does across a network outage).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from asyncua import Server, ua

log = logging.getLogger(__name__)

NAMESPACE_URI = "urn:pharma-mes:equipment-simulator"
DEFAULT_URL = os.environ.get("MES_OPCUA_SIMULATOR_URL", "opc.tcp://127.0.0.1:4840/mes/simulator")
ALARMS = {101: "Over-temperature", 205: "Main motor overload", 310: "Guard door opened while running"}

# key, kind, unit, set point, low limit, high limit, noise
DEFAULT_TAGS = [
    ("state", "state", "", None, None, None, 0),
    ("alarm", "alarm", "", None, None, None, 0),
    ("alarm_code", "alarm_code", "", None, None, None, 0),
    ("good_count", "good_count", "", None, None, None, 0),
    ("reject_count", "reject_count", "", None, None, None, 0),
    ("temperature", "process", "°C", 45.0, 30.0, 60.0, 0.4),
    ("pressure", "process", "bar", 1.2, 0.8, 1.6, 0.01),
    ("speed", "process", "rpm", 120.0, 90.0, 150.0, 1.0),
]


def node_id(code: str, key: str, ns: int = 2) -> str:
    return f"ns={ns};s={code}.{key}"


@dataclass
class SimTag:
    key: str
    kind: str
    node_id: str
    setpoint: float | None = None
    low: float | None = None
    high: float | None = None
    noise: float = 0.0
    value: float = 0.0
    source_ts: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    excursion: int = 0  # ticks left of an out-of-range excursion
    text: str | None = None  # a machine that reports its state (or anything) as text: "Running"
    status: int = ua.StatusCodes.Good  # e.g. BadSensorFailure: the PLC's own verdict on the value

    @property
    def variant_type(self) -> ua.VariantType:
        if self.text is not None:
            return ua.VariantType.String
        return {
            "state": ua.VariantType.Int32,
            "alarm": ua.VariantType.Boolean,
            "alarm_code": ua.VariantType.Int32,
            "good_count": ua.VariantType.Int64,
            "reject_count": ua.VariantType.Int64,
        }.get(self.kind, ua.VariantType.Double)

    def ua_value(self):
        if self.text is not None:
            return self.text
        if self.kind == "alarm":
            return bool(self.value)
        if self.kind in ("state", "alarm_code", "good_count", "reject_count"):
            return int(self.value)
        return float(self.value)


@dataclass
class SimEquipment:
    code: str
    tags: dict[str, SimTag]
    rate_per_tick: float = 100.0
    fault_ticks: int = 0


def default_equipment(code: str, extra_process_tags: int = 0, rate_per_min: float = 6000.0) -> SimEquipment:
    tags = {}
    for key, kind, _unit, sp, low, high, noise in DEFAULT_TAGS:
        tags[key] = SimTag(key, kind, node_id(code, key), sp, low, high, noise, value=sp if sp is not None else 0.0)
    for i in range(1, extra_process_tags + 1):
        key = f"pv{i:02d}"
        tags[key] = SimTag(key, "process", node_id(code, key), 50.0, 10.0, 90.0, 0.5, value=50.0)
    tags["state"].value = 1
    return SimEquipment(code, tags, rate_per_tick=rate_per_min / 60.0)


class Simulator:
    """The simulated plant and its OPC UA server. `auto=False` leaves values to the caller (tests)."""

    def __init__(
        self,
        equipment: list[SimEquipment],
        url: str = DEFAULT_URL,
        *,
        seed: int | None = None,
        fault_rate: float = 0.002,
        excursion_rate: float = 0.004,
        omit: frozenset[str] = frozenset(),
        fault_requests: Path | None = None,
    ) -> None:
        self.equipment = {e.code: e for e in equipment}
        # Faults on demand (demo): `manage.py opcua_fault CODE` or the equipment admin drops a file here.
        self.fault_requests = fault_requests
        self.omit = omit  # node ids not served at all: reading them answers BadNodeIdUnknown
        self.clock_skew = dt.timedelta(0)  # added to every source timestamp: a PLC whose clock is off
        self.url = url
        self.random = random.Random(seed)
        self.fault_rate, self.excursion_rate = fault_rate, excursion_rate
        self.server: Server | None = None
        self._nodes: dict[str, ua.NodeId] = {}
        self._types: dict[str, ua.VariantType] = {}  # the type each variable was created with
        self._retyped: dict[str, ua.DataValue] = {}  # variables now serving another type (read callback)

    # --- server lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("Pharma MES equipment simulator")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        idx = await server.register_namespace(NAMESPACE_URI)
        objects = server.nodes.objects
        for eq in self.equipment.values():
            folder = await objects.add_object(ua.NodeId(eq.code, idx), ua.QualifiedName(eq.code, idx))
            for tag in eq.tags.values():
                if tag.node_id in self.omit:
                    continue
                nid = ua.NodeId.from_string(tag.node_id)
                await folder.add_variable(
                    nid, ua.QualifiedName(tag.key, idx), ua.Variant(tag.ua_value(), tag.variant_type)
                )
                self._nodes[tag.node_id] = nid
                self._types[tag.node_id] = tag.variant_type
        await server.start()
        self.server = server
        await self.publish([t for e in self.equipment.values() for t in e.tags.values()])

    async def stop(self) -> None:
        server, self.server = self.server, None
        self._retyped.clear()
        if server is not None:
            await server.stop()

    async def publish(self, tags: list[SimTag]) -> None:
        """Write tag values with their own source timestamps (bypassing per-write checks)."""
        server = self.server
        if server is None:
            return
        now = dt.datetime.now(dt.UTC)
        for tag in tags:
            if tag.node_id not in self._nodes:
                continue
            dv = ua.DataValue(
                ua.Variant(tag.ua_value(), tag.variant_type),
                StatusCode=ua.StatusCode(tag.status),
                SourceTimestamp=tag.source_ts,
                ServerTimestamp=now,
            )
            if tag.node_id in self._retyped or tag.variant_type != self._types[tag.node_id]:
                # a machine that sends text where it used to send numbers: the server's own type
                # check would refuse the write, so reads of this variable are answered directly
                if tag.node_id not in self._retyped:
                    server.set_attribute_value_callback(
                        self._nodes[tag.node_id], lambda _nid, _attr, key=tag.node_id: self._retyped[key]
                    )
                self._retyped[tag.node_id] = dv
                continue
            await server.write_attribute_value(self._nodes[tag.node_id], dv)

    # --- simulation -------------------------------------------------------------------------
    def set(self, code: str, key: str, value: float, when: dt.datetime | None = None) -> SimTag:
        tag = self.equipment[code].tags[key]
        if isinstance(value, str):
            tag.text = value
        else:
            tag.value, tag.text = value, None
        tag.source_ts = when or self.now()
        return tag

    def now(self) -> dt.datetime:
        """The PLC's clock (skewed when a test says so)."""
        return dt.datetime.now(dt.UTC) + self.clock_skew

    def tick(self) -> list[SimTag]:
        """Advance the plant by one step; returns the tags whose value changed."""
        now = self.now()
        changed: list[SimTag] = []
        for eq in self.equipment.values():
            before = {k: t.value for k, t in eq.tags.items()}
            self._step_state(eq)
            state = eq.tags["state"].value
            if state == 1:
                made = max(0, round(eq.rate_per_tick * self.random.uniform(0.85, 1.02)))
                rejects = sum(1 for _ in range(min(made, 50)) if self.random.random() < 0.01)
                eq.tags["good_count"].value += made - rejects
                eq.tags["reject_count"].value += rejects
            for tag in eq.tags.values():
                if tag.kind == "process":
                    self._drift(tag, running=state == 1)
            for key, tag in eq.tags.items():
                if tag.value != before[key]:
                    tag.source_ts = now
                    changed.append(tag)
        return changed

    def raise_fault(self, code: str, alarm_code: int | None = None, ticks: int = 30) -> list[SimTag]:
        """The machine faults now: state 2, alarm on, an alarm code, for `ticks` updates (tags to publish)."""
        eq, now = self.equipment[code], self.now()
        tags = [eq.tags["state"], eq.tags["alarm_code"], eq.tags["alarm"]]  # the code before the alarm edge
        eq.tags["state"].value, eq.tags["alarm"].value = 2, 1
        eq.tags["alarm_code"].value = alarm_code if alarm_code in ALARMS else next(iter(ALARMS))
        eq.fault_ticks = ticks
        for tag in tags:
            tag.source_ts = now
        return tags

    def take_fault_requests(self) -> list[SimTag]:
        """Raise the faults asked for since the last update (one request file per equipment code)."""
        if self.fault_requests is None or not self.fault_requests.is_dir():
            return []
        changed: list[SimTag] = []
        for request in sorted(self.fault_requests.glob("*.fault")):
            code, text = request.stem, request.read_text(encoding="utf-8").strip()
            request.unlink(missing_ok=True)
            if code in self.equipment:
                changed += self.raise_fault(code, int(text) if text.isdigit() else None)
                log.info("fault raised on demand on %s", code)
        return changed

    def _step_state(self, eq: SimEquipment) -> None:
        state, r = eq.tags["state"], self.random.random()
        if state.value == 2:
            eq.fault_ticks -= 1
            if eq.fault_ticks <= 0:
                state.value, eq.tags["alarm"].value, eq.tags["alarm_code"].value = 0, 0, 0
        elif state.value == 1 and r < self.fault_rate:
            state.value, eq.tags["alarm"].value = 2, 1
            eq.tags["alarm_code"].value = self.random.choice(list(ALARMS))
            eq.fault_ticks = self.random.randint(10, 40)
        elif state.value == 1 and r < self.fault_rate + 0.01:
            state.value = 0
        elif state.value == 0 and r < 0.1:
            state.value = 1

    def _drift(self, tag: SimTag, *, running: bool) -> None:
        if tag.setpoint is None:
            return
        target = tag.setpoint if running else tag.setpoint * 0.5
        if tag.excursion > 0:
            tag.excursion -= 1
            target = tag.high + (tag.high - tag.low) * 0.1
        elif self.random.random() < self.excursion_rate:
            tag.excursion = self.random.randint(3, 10)
        tag.value = round(tag.value + (target - tag.value) * 0.2 + self.random.gauss(0, tag.noise), 3)

    async def run(self, interval: float = 1.0, *, auto: bool = True, stop: asyncio.Event | None = None) -> None:
        await self.start()
        log.info("OPC UA simulator on %s with %d equipment", self.url, len(self.equipment))
        try:
            while stop is None or not stop.is_set():
                await asyncio.sleep(interval)
                if auto:
                    raised = self.take_fault_requests()
                    seen = {id(t) for t in raised}
                    await self.publish(raised + [t for t in self.tick() if id(t) not in seen])
        finally:
            await self.stop()


class SimulatorThread:
    """Runs a Simulator in a thread with its own event loop (tests and the benchmark)."""

    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="opcua-sim", daemon=True)
        self.thread.start()

    def call(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.call(self.sim.start())

    def stop(self) -> None:
        self.call(self.sim.stop())

    def set(self, code: str, key: str, value: float | str) -> None:
        """Change a value (a number, or text) and publish it, like the machine would."""
        tag = self.sim.set(code, key, value)
        self.call(self.sim.publish([tag]))

    def tick(self) -> int:
        async def _tick():
            changed = self.sim.tick()
            await self.sim.publish(changed)
            return len(changed)

        return self.call(_tick())

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


class HangingServer:
    """A server that accepts OPC UA connections and never answers (a PLC whose stack has hung):
    the client's own time-out is the only way out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"opc.tcp://127.0.0.1:{self.port}/hung"
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="opcua-hang", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)  # held open, never read from, never answered

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def fault_request(directory: Path, code: str, alarm_code: int | None = None) -> Path:
    """Ask the running simulator to fault equipment `code` at its next update (a demo of the fault flow)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{code}.fault"
    path.write_text(str(alarm_code or ""), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
