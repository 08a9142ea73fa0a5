"""The balance-driver interface: what the MES asks of any balance, whatever its protocol.

Every failure is a `BalanceError` subclass whose message says, in an operator's words, what went
wrong and what to do. A driver never returns a reading it does not trust: an unstable, overloaded,
underloaded or garbled answer raises, so nothing can be recorded from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext as _


class BalanceError(Exception):
    """The balance could not give a trustworthy answer; `str(exc)` is the operator's message."""

    raw: str = ""

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


class BalanceDisconnected(BalanceError):
    """No connection (refused, reset, closed during a command)."""


class BalanceTimeout(BalanceError):
    """The balance did not answer in time."""


class BalanceUnstable(BalanceError):
    """The weight did not settle (draught, vibration, material still moving)."""


class BalanceOverload(BalanceError):
    """More than the balance's capacity is on the pan."""


class BalanceUnderload(BalanceError):
    """Less than zero: the pan is missing or the zero point moved."""


class BalanceRefused(BalanceError):
    """The balance understood the command but refused it, or answered something we cannot read."""


@dataclass(frozen=True)
class Reading:
    """One weight from the balance: the value, its unit, whether it was stable, and the raw answer."""

    value: Decimal
    unit: str
    stable: bool
    raw: str
    at: dt.datetime


class BalanceDriver(Protocol):
    """What every protocol module provides (see equipment.balances.mtsics)."""

    protocol: str

    def serial_number(self) -> str: ...

    def stable_weight(self) -> Reading: ...

    def immediate_weight(self) -> Reading: ...

    def tare(self) -> Reading: ...

    def tare_value(self) -> Reading: ...

    def clear_tare(self) -> None: ...

    def zero(self) -> None: ...

    def close(self) -> None: ...


DRIVERS: dict[str, type] = {}


def register(protocol: str):
    """Class decorator: make a driver available under its protocol name."""

    def wrap(cls):
        DRIVERS[protocol] = cls
        cls.protocol = protocol
        return cls

    return wrap


def driver_for(protocol: str, host: str, port: int, *, timeout: float = 5.0) -> BalanceDriver:
    """A connected-on-demand driver for one balance."""
    try:
        cls = DRIVERS[protocol]
    except KeyError:
        raise BalanceRefused(_("No driver for the balance protocol “%(p)s”.") % {"p": protocol}) from None
    return cls(host, port, timeout=timeout)
