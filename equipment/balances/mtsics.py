"""MT-SICS (Mettler Toledo Standard Interface Command Set) over TCP.

Commands are ASCII lines ending CR LF; each gets one answer line. Used here (level 0/1):

    I4            I4 A "<serial>"             serial number
    S             S S <value> <unit>          stable weight (S I: not stable in time / busy)
    SI            S S|D <value> <unit>        immediate weight (D: dynamic, not stable)
    T             T S <value> <unit>          tare (the tare weight taken)
    TA            TA A <value> <unit>         the tare value held
    TAC           TAC A                       clear the tare
    Z             Z A                         zero
    any           ... +  / ... -              overload / underload
    any           ES / ET / EL                syntax, transmission, logical error

A query that fails on a connection that has gone stale is sent once more on a new connection;
a command that changes the balance (T, Z, TAC) is never repeated behind the operator's back.
"""

from __future__ import annotations

import re
import socket
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from equipment.balances.driver import (
    BalanceDisconnected,
    BalanceOverload,
    BalanceRefused,
    BalanceTimeout,
    BalanceUnderload,
    BalanceUnstable,
    Reading,
    register,
)

_WEIGHT = re.compile(r"^(?P<cmd>S|T|TA)\s+(?P<status>[SDA])\s+(?P<value>[-+]?\s*\d+(?:\.\d+)?)\s+(?P<unit>\S+)\s*$")
_SERIAL = re.compile(r'^I4\s+A\s+"(?P<serial>[^"]*)"\s*$')


def _error_for(cmd: str, answer: str):
    """The exception for an error answer, or None if the answer is not an error."""
    head = answer.split()
    if not head:
        return BalanceRefused(_("The balance sent an empty answer."), answer)
    if head[0] == "ES":
        return BalanceRefused(
            _("The balance did not understand the command (ES). Check the protocol set on it."), answer
        )
    if head[0] == "ET":
        return BalanceRefused(_("Transmission error on the balance line (ET). Try again."), answer)
    if head[0] == "EL":
        return BalanceRefused(_("The balance cannot do this now (EL). Check its display."), answer)
    flag = head[1] if len(head) > 1 else ""
    if flag == "+":
        return BalanceOverload(_("Overload: more than the balance's capacity is on the pan. Take some off."), answer)
    if flag == "-":
        return BalanceUnderload(_("Underload: the balance reads below zero. Check the pan and zero it."), answer)
    if flag == "I":
        if cmd == "S":
            return BalanceUnstable(
                _("The weight did not settle. Close the draught shield, wait, and capture again."), answer
            )
        return BalanceRefused(_("The balance is busy and refused the command. Wait and try again."), answer)
    if flag == "L":
        return BalanceRefused(_("The balance does not support this command or value (L)."), answer)
    return None


@register("mtsics")
class MTSICSDriver:
    """One MT-SICS balance on host:port; connects on first use, reconnects after a failure."""

    protocol = "mtsics"

    def __init__(self, host: str, port: int, *, timeout: float = 5.0) -> None:
        self.host, self.port, self.timeout = host, int(port), timeout
        self._sock: socket.socket | None = None
        self._buf = b""

    # --- connection ---------------------------------------------------------------------------
    def _connect(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            except TimeoutError:
                raise BalanceTimeout(self._where(_("No answer from the balance at %(addr)s."))) from None
            except OSError:
                raise BalanceDisconnected(
                    self._where(_("Cannot connect to the balance at %(addr)s: is it switched on and plugged in?"))
                ) from None
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._buf = b""
        return self._sock

    def _where(self, text: str) -> str:
        return text % {"addr": f"{self.host}:{self.port}"}

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock, self._buf = None, b""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _readline(self, sock: socket.socket) -> str:
        while b"\r\n" not in self._buf:
            chunk = sock.recv(256)
            if not chunk:
                raise ConnectionResetError("closed")
            self._buf += chunk
            if len(self._buf) > 4096:
                raise BalanceRefused(_("The balance sent an answer that is far too long."))
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line.decode("ascii", errors="replace").strip()

    def command(self, cmd: str, *, repeatable: bool = True) -> str:
        """Send one command, return its answer line; one fresh-connection retry for queries."""
        fresh = self._sock is None
        try:
            return self._exchange(cmd)
        except (ConnectionError, BrokenPipeError):
            self.close()
            if fresh or not repeatable:
                raise BalanceDisconnected(
                    self._where(_("The connection to the balance at %(addr)s broke during the command. Try again."))
                ) from None
        try:
            return self._exchange(cmd)
        except (ConnectionError, BrokenPipeError):
            self.close()
            raise BalanceDisconnected(
                self._where(_("The connection to the balance at %(addr)s broke during the command. Try again."))
            ) from None

    def _exchange(self, cmd: str) -> str:
        sock = self._connect()
        try:
            sock.sendall(cmd.encode("ascii") + b"\r\n")
            return self._readline(sock)
        except TimeoutError:
            self.close()  # a late answer would be read as the answer to the next command
            raise BalanceTimeout(self._where(_("The balance at %(addr)s did not answer in time."))) from None

    # --- the interface ----------------------------------------------------------------------------
    def _weight(self, cmd: str, answer: str, *, need_stable: bool) -> Reading:
        error = _error_for(cmd, answer)
        if error is not None:
            raise error
        match = _WEIGHT.match(answer)
        if match is None:
            raise BalanceRefused(_("The balance sent an answer that cannot be read: %(raw)s") % {"raw": answer}, answer)
        stable = match["status"] in ("S", "A")
        if need_stable and not stable:
            raise BalanceUnstable(_("The weight is still moving. Wait until it settles."), answer)
        try:
            value = Decimal(match["value"].replace(" ", ""))
        except InvalidOperation:
            raise BalanceRefused(
                _("The balance sent an answer that cannot be read: %(raw)s") % {"raw": answer}, answer
            ) from None
        return Reading(value=value, unit=match["unit"], stable=stable, raw=answer, at=timezone.now())

    def serial_number(self) -> str:
        answer = self.command("I4")
        match = _SERIAL.match(answer)
        if match is None:
            raise _error_for("I4", answer) or BalanceRefused(
                _("The balance did not report its serial number: %(raw)s") % {"raw": answer}, answer
            )
        return match["serial"].strip()

    def stable_weight(self) -> Reading:
        return self._weight("S", self.command("S"), need_stable=True)

    def immediate_weight(self) -> Reading:
        return self._weight("S", self.command("SI"), need_stable=False)

    def tare(self) -> Reading:
        return self._weight("T", self.command("T", repeatable=False), need_stable=True)

    def tare_value(self) -> Reading:
        return self._weight("TA", self.command("TA"), need_stable=True)

    def clear_tare(self) -> None:
        answer = self.command("TAC", repeatable=False)
        if answer.split()[:2] != ["TAC", "A"]:
            raise _error_for("TAC", answer) or BalanceRefused(_("The balance did not clear the tare."), answer)

    def zero(self) -> None:
        answer = self.command("Z", repeatable=False)
        if answer.split()[:2] != ["Z", "A"]:
            raise _error_for("Z", answer) or BalanceRefused(_("The balance did not zero."), answer)
