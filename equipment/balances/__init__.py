"""Laboratory and floor balances: a small driver interface, one module per protocol, a simulator.

`driver_for(protocol, host, port)` returns a `BalanceDriver`; MT-SICS (Mettler Toledo) is
`mtsics`. A second protocol (Sartorius SBI) is one more module registering itself in DRIVERS.
"""

# Each protocol module registers itself in DRIVERS when imported: importing the package loads them all.
from equipment.balances import mtsics  # noqa: F401
from equipment.balances.driver import (
    BalanceDisconnected,
    BalanceDriver,
    BalanceError,
    BalanceOverload,
    BalanceRefused,
    BalanceTimeout,
    BalanceUnderload,
    BalanceUnstable,
    Reading,
    driver_for,
)

__all__ = [
    "BalanceDisconnected",
    "BalanceDriver",
    "BalanceError",
    "BalanceOverload",
    "BalanceRefused",
    "BalanceTimeout",
    "BalanceUnderload",
    "BalanceUnstable",
    "Reading",
    "driver_for",
]
