"""MT-SICS driver against the balance simulator over real TCP on loopback."""

from __future__ import annotations

import socket
import threading
from decimal import Decimal

import pytest

from equipment.balances import (
    BalanceDisconnected,
    BalanceOverload,
    BalanceRefused,
    BalanceTimeout,
    BalanceUnderload,
    BalanceUnstable,
    driver_for,
)
from equipment.balances.simulator import BalanceSimulator, send_control


@pytest.fixture
def sim():
    s = BalanceSimulator(serial="B123456789", capacity="6200", decimals=2).start()
    yield s
    s.stop()


@pytest.fixture
def drv(sim):
    d = driver_for("mtsics", "127.0.0.1", sim.port, timeout=1.0)
    yield d
    d.close()


def test_serial_and_stable_weight(sim, drv):
    assert drv.serial_number() == "B123456789"
    sim.put("512.34")
    reading = drv.stable_weight()
    assert reading.value == Decimal("512.34") and reading.unit == "g" and reading.stable
    assert reading.raw.startswith("S S") and "512.34" in reading.raw


def test_tare_then_net_and_tare_value(sim, drv):
    sim.put("120.00")
    assert drv.tare().value == Decimal("120.00")
    sim.add("250.5")
    assert drv.stable_weight().value == Decimal("250.50")
    assert drv.tare_value().value == Decimal("120.00")
    drv.clear_tare()
    assert drv.stable_weight().value == Decimal("370.50")


def test_unstable_weight_is_refused_not_returned(sim, drv):
    sim.put("100")
    sim.set_unstable()
    with pytest.raises(BalanceUnstable) as exc:
        drv.stable_weight()
    assert exc.value.raw == "S I"
    immediate = drv.immediate_weight()
    assert immediate.stable is False and immediate.raw.startswith("S D")
    send_control("127.0.0.1", sim.port, "DRIFT 0.05")
    sim.set_unstable(False)
    send_control("127.0.0.1", sim.port, "DRIFT 0.05")
    with pytest.raises(BalanceUnstable):
        drv.stable_weight()
    send_control("127.0.0.1", sim.port, "STABLE")
    assert drv.stable_weight().stable


def test_overload_and_underload(sim, drv):
    sim.put("7000")
    with pytest.raises(BalanceOverload) as exc:
        drv.stable_weight()
    assert exc.value.raw == "S +" and "capacity" in str(exc.value)
    sim.put("-3")
    with pytest.raises(BalanceUnderload):
        drv.stable_weight()


def test_unknown_command_answer_is_a_clear_error(sim, drv):
    assert drv.command("XYZ") == "ES"
    with pytest.raises(BalanceRefused, match="ES"):
        drv._weight("S", "ES", need_stable=True)
    with pytest.raises(BalanceRefused, match="cannot be read"):
        drv._weight("S", "S S garbage", need_stable=True)


def test_wrong_serial_is_reported(sim, drv):
    send_control("127.0.0.1", sim.port, "SERIAL OTHER-1")
    assert drv.serial_number() == "OTHER-1"


def test_disconnect_during_weighing_then_reconnect(sim, drv):
    sim.put("50")
    assert drv.stable_weight().value == Decimal("50.00")
    # The balance cuts the line at the next weighing command: the query is re-sent on a new connection.
    sim.state.drop_next = True
    assert drv.stable_weight().value == Decimal("50.00")
    # A tare is never repeated behind the operator's back: the break is reported.
    sim.state.drop_next = True
    with pytest.raises(BalanceDisconnected, match="broke"):
        drv.tare()
    assert drv.stable_weight().value == Decimal("50.00")


def test_balance_switched_off_and_on_again(sim):
    port = sim.port
    drv = driver_for("mtsics", "127.0.0.1", port, timeout=1.0)
    sim.put("10")
    assert drv.stable_weight().value == Decimal("10.00")
    sim.stop()
    with pytest.raises(BalanceDisconnected, match="127.0.0.1"):
        drv.stable_weight()
    again = BalanceSimulator(serial="B123456789", capacity="6200", port=port).start()
    try:
        again.put("11")
        assert drv.stable_weight().value == Decimal("11.00")
    finally:
        drv.close()
        again.stop()


def test_no_answer_times_out_and_the_late_answer_is_not_misread(sim):
    drv = driver_for("mtsics", "127.0.0.1", sim.port, timeout=0.3)
    sim.put("20")
    sim.state.stall_next = True
    with pytest.raises(BalanceTimeout, match="did not answer"):
        drv.stable_weight()
    assert drv.stable_weight().value == Decimal("20.00")
    drv.close()


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    t = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    t.start()
    drv = driver_for("mtsics", "127.0.0.1", listener.getsockname()[1], timeout=0.3)
    with pytest.raises(BalanceTimeout):
        drv.serial_number()
    drv.close()
    listener.close()


def test_unknown_protocol():
    with pytest.raises(BalanceRefused, match="sbi"):
        driver_for("sbi", "127.0.0.1", 1)
