"""A balance simulator speaking MT-SICS over TCP, so tests and the demo weigh against a real socket.

The weight on the pan is set by a test (`sim.load = Decimal("512.3")`) or by a person through
`XSIM` lines on the same socket (not part of MT-SICS; a real balance answers them with ES):

    XSIM W <g>        put this gross load on the pan        XSIM ADD <g>   add (or take off) material
    XSIM UNSTABLE     the reading never settles             XSIM STABLE    it settles again
    XSIM DRIFT <g>    each reading creeps by <g> (unstable) XSIM DROP      close the connection at the next command
    XSIM STALL        do not answer the next command        XSIM SERIAL s  report another serial number
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from decimal import Decimal, InvalidOperation

SETTLE_TIMEOUT = 0.2  # seconds a simulated balance waits for stability before answering "S I"


class BalanceState:
    """What is on one simulated balance; all values in grams. Thread-safe through `lock`."""

    def __init__(self, *, serial: str, capacity: Decimal, decimals: int = 2, unit: str = "g") -> None:
        self.serial, self.capacity, self.decimals, self.unit = serial, Decimal(capacity), decimals, unit
        self.load = Decimal(0)  # gross mass on the pan
        self.zero_offset = Decimal(0)
        self.tare = Decimal(0)
        self.unstable = False
        self.drift = Decimal(0)
        self.drop_next = False
        self.stall_next = False
        self.lock = threading.Lock()

    def _net(self) -> Decimal:
        return self.load - self.zero_offset - self.tare

    def _fmt(self, cmd: str, status: str, value: Decimal) -> str:
        return f"{cmd} {status} {value:>10.{self.decimals}f} {self.unit}"

    def _range_flag(self) -> str | None:
        gross = self.load - self.zero_offset
        if gross > self.capacity:
            return "+"
        if gross < -5 * Decimal(10) ** -self.decimals:  # a few digits below zero: pan missing
            return "-"
        return None

    def answer(self, line: str) -> str | None:
        """The answer to one command line (None: close the connection)."""
        words = line.split()
        if not words:
            return "ES"
        cmd = words[0].upper()
        if cmd == "XSIM":
            return self._control(words[1:])
        handler = {
            "I4": lambda: f'I4 A "{self.serial}"',
            "S": self._stable,
            "SI": self._immediate,
            "T": self._tare,
            "TA": lambda: self._fmt("TA", "A", self.tare),
            "TAC": self._clear_tare,
            "Z": self._zero,
        }.get(cmd)
        return handler() if handler and len(words) == 1 else "ES"

    def _moving(self) -> bool:
        if self.drift:
            self.load += self.drift
        return self.unstable or bool(self.drift)

    def _stable(self) -> str:
        flag = self._range_flag()
        if flag:
            return f"S {flag}"
        if self._moving():
            time.sleep(SETTLE_TIMEOUT)  # a real balance waits for stability, then gives up
            return "S I"
        return self._fmt("S", "S", self._net())

    def _immediate(self) -> str:
        flag = self._range_flag()
        if flag:
            return f"S {flag}"
        return self._fmt("S", "D" if self._moving() else "S", self._net())

    def _tare(self) -> str:
        flag = self._range_flag()
        if flag:
            return f"T {flag}"
        if self._moving():
            return "T I"
        self.tare = self.load - self.zero_offset
        return self._fmt("T", "S", self.tare)

    def _clear_tare(self) -> str:
        self.tare = Decimal(0)
        return "TAC A"

    def _zero(self) -> str:
        if self._moving():
            return "Z I"
        if abs(self.load) > self.capacity * Decimal("0.02"):
            return "Z +"  # outside the zero range
        self.zero_offset, self.tare = self.load, Decimal(0)
        return "Z A"

    def _control(self, args: list[str]) -> str:
        try:
            what = args[0].upper()
            if what in ("W", "ADD"):
                value = Decimal(args[1])
                self.load = value if what == "W" else self.load + value
            elif what == "UNSTABLE":
                self.unstable = True
            elif what == "STABLE":
                self.unstable, self.drift = False, Decimal(0)
            elif what == "DRIFT":
                self.drift = Decimal(args[1])
            elif what == "DROP":
                self.drop_next = True
            elif what == "STALL":
                self.stall_next = True
            elif what == "SERIAL":
                self.serial = args[1]
            elif what != "STATE":
                return "ES"
        except (IndexError, InvalidOperation):
            return "ES"
        return f"XSIM A {self.load} {self.tare} {'U' if self.unstable or self.drift else 'S'}"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        sim: BalanceSimulator = self.server.simulator  # type: ignore[attr-defined]
        sim._clients.add(self.request)
        try:
            for raw in self.rfile:
                line = raw.decode("ascii", errors="replace").strip()
                state = sim.state
                with state.lock:
                    if state.drop_next and not line.upper().startswith("XSIM"):
                        state.drop_next = False
                        return
                    if state.stall_next and not line.upper().startswith("XSIM"):
                        state.stall_next = False
                        continue
                    answer = state.answer(line)
                self.wfile.write(answer.encode("ascii") + b"\r\n")
        except OSError:
            return
        finally:
            sim._clients.discard(self.request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class BalanceSimulator:
    """One simulated balance listening on host:port (port 0: any free port, see `.port`)."""

    def __init__(
        self, *, serial: str, capacity, decimals: int = 2, host: str = "127.0.0.1", port: int = 0, unit: str = "g"
    ) -> None:
        self.state = BalanceState(serial=serial, capacity=Decimal(str(capacity)), decimals=decimals, unit=unit)
        self.host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._clients: set[socket.socket] = set()

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self._port

    def start(self) -> BalanceSimulator:
        self._server = _Server((self.host, self._port), _Handler)
        self._server.simulator = self  # type: ignore[attr-defined]
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"balance-sim-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Switch the balance off: stop listening and cut every open connection."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for client in list(self._clients):
            try:
                client.shutdown(socket.SHUT_RDWR)
                client.close()
            except OSError:
                pass
        self._server = None

    # Conveniences for tests and the demo (the same as the XSIM lines).
    def put(self, grams) -> None:
        with self.state.lock:
            self.state.load = Decimal(str(grams))

    def add(self, grams) -> None:
        with self.state.lock:
            self.state.load += Decimal(str(grams))

    def set_unstable(self, unstable: bool = True) -> None:
        with self.state.lock:
            self.state.unstable = unstable
            if not unstable:
                self.state.drift = Decimal(0)


def send_control(host: str, port: int, line: str, *, timeout: float = 2.0) -> str:
    """Send one XSIM line to a simulated balance (the demo's "put material on the pan")."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(f"XSIM {line}\r\n".encode("ascii"))
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(256)
            if not chunk:
                break
            data += chunk
    return data.decode("ascii", errors="replace").strip()
