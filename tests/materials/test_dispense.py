"""Weigh & dispense against a simulated MT-SICS balance on loopback TCP (issue 19)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.context import audit_context
from audit.models import AuditEvent
from equipment.balances.simulator import BalanceSimulator
from equipment.models import BalanceCheck, Equipment
from equipment.services.balance import balance_problems, balance_tare
from materials.models import DispenseEntry, GenealogyEdge, LedgerEntry
from materials.printer_simulator import LabelPrinterSimulator
from materials.requirements import Requirement
from materials.services import on_hand
from materials.services.dispense import dispense_capture, dispense_label, dispense_manual
from tests.materials.balances import daily_check, make_balance


@pytest.fixture
def sim():
    s = BalanceSimulator(serial="B500123", capacity="6200").start()
    yield s
    s.stop()


@pytest.fixture
def bal(sim, users):
    return make_balance("BAL-01", sim, checker=users["operator"])


@pytest.fixture
def line(api):
    return Requirement(material=api, quantity=Decimal("0.250"), unit="kg", tolerance_pct=Decimal("2"), line_ref="10")


@pytest.fixture
def lot(released, api):
    return released(api, "5")


def weigh(sim, bal, container="85.30", material="250.40"):
    sim.put(container)
    balance_tare(balance=bal)
    sim.add(material)


def refusals():
    return AuditEvent.objects.filter(action="materials.dispense_refused").order_by("-id")


@pytest.mark.req("MAT-2", "MAT-8")
def test_captured_weight_becomes_issue_with_genealogy(sim, bal, line, lot, batch, users):
    weigh(sim, bal)
    entry = dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    assert (entry.gross, entry.tare, entry.net, entry.unit) == (
        Decimal("335.70"),
        Decimal("85.30"),
        Decimal("250.40"),
        "g",
    )
    assert entry.balance == bal.equipment and entry.balance_serial == "B500123" and not entry.manual
    assert entry.raw.splitlines() == ['I4 A "B500123"', "S S     250.40 g", "TA A      85.30 g"]
    assert entry.container_code == f"{lot.code}/D001" and entry.read_at is not None
    ledger = entry.ledger_entry
    assert (ledger.entry_type, ledger.quantity, ledger.unit, ledger.batch) == ("issue", Decimal("0.250"), "kg", batch)
    assert on_hand(lot) == Decimal("4.750")
    assert GenealogyEdge.objects.filter(lot=lot, batch=batch).exists()
    assert AuditEvent.objects.filter(action="materials.dispense.record").exists()


@pytest.mark.req("MAT-7")
def test_wrong_lot_is_refused_and_nothing_recorded(sim, bal, line, batch, users, released, excipient):
    wrong = released(excipient, "5")
    weigh(sim, bal)
    with pytest.raises(ValidationError, match="Wrong material"):
        dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=wrong.code, balance=bal)
    assert not DispenseEntry.objects.exists() and not LedgerEntry.objects.filter(entry_type="issue").exists()
    assert refusals().first().new["lot"] == wrong.code


def test_below_minimum_weight_is_refused(sim, bal, api, lot, batch, users):
    small = Requirement(material=api, quantity=Decimal("0.005"), unit="kg", tolerance_pct=Decimal("10"))
    weigh(sim, bal, material="5.00")
    with pytest.raises(ValidationError, match="minimum weight"):
        dispense_capture(user=users["operator"], batch=batch, requirement=small, lot_code=lot.code, balance=bal)
    assert not DispenseEntry.objects.exists()
    assert "minimum weight" in refusals().first().reason


def test_out_of_tolerance_is_refused_then_corrected(sim, bal, line, lot, batch, users):
    weigh(sim, bal, material="262.00")  # 250 g ± 2 % allows at most 255 g
    with pytest.raises(ValidationError, match="Too much"):
        dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    sim.add("-10.00")
    entry = dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    assert entry.net == Decimal("252.00")


def test_unstable_reading_records_nothing(sim, bal, line, lot, batch, users):
    weigh(sim, bal)
    sim.set_unstable()
    with pytest.raises(ValidationError, match="did not settle"):
        dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    assert not DispenseEntry.objects.exists()
    assert refusals().first().new["raw"] == "S I"


def test_overload_records_nothing(sim, bal, line, lot, batch, users):
    weigh(sim, bal, material="7000")
    with pytest.raises(ValidationError, match="Overload"):
        dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    assert not DispenseEntry.objects.exists()


def test_no_container_tared_is_refused(sim, bal, line, lot, batch, users):
    sim.put("250.40")
    with pytest.raises(ValidationError, match="Tare"):
        dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)


def test_wrong_balance_serial_is_refused(sim, line, lot, batch, users):
    bal = make_balance("BAL-09", sim, serial="B999999")
    with audit_context(action="test.setup"):
        BalanceCheck.objects.create(
            balance=bal,
            performed_by=users["operator"],
            test_weight="TW",
            nominal=200,
            reading=200,
            unit="g",
            tolerance=Decimal("0.05"),
            passed=True,
        )
    sim.put("85")
    with pytest.raises(ValidationError, match="Wrong balance"):
        dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    assert "B500123" in refusals().first().reason


@pytest.mark.req("EQP-4")
def test_balance_out_of_calibration_is_refused(sim, bal, line, lot, batch, users):
    with audit_context(action="test.setup"):
        eq = Equipment.objects.get(pk=bal.equipment_id)
        eq.calibration_due_on = timezone.localdate() - dt.timedelta(days=1)
        eq.save()
    sim.put("85")
    with pytest.raises(ValidationError, match="Calibration overdue") as weigh_error:
        dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    assert "BAL-01" in str(weigh_error.value)
    assert not DispenseEntry.objects.exists()


@pytest.mark.req("EQP-6")
def test_daily_check_gates_use(sim, line, lot, batch, users):
    bal = make_balance("BAL-02", sim)
    assert any("daily balance check" in p for p in balance_problems(bal))
    failed = daily_check(bal, sim, users["operator"], weight="200.20")  # outside ± 0.05 g
    assert not failed.passed and failed.reading == Decimal("200.20") and failed.raw.endswith("200.20 g")
    assert any("last balance check failed" in p for p in balance_problems(bal))
    sim.put("85")
    with pytest.raises(ValidationError, match="balance check failed"):
        balance_tare(balance=bal)
    assert daily_check(bal, sim, users["operator"]).passed
    assert balance_problems(bal) == []


def test_manual_entry_needs_reason_and_second_person_and_is_flagged(sim, bal, line, lot, batch, users, password):
    op, op2 = users["operator"], users["operator2"]
    common = dict(
        user=op, batch=batch, requirement=line, lot_code=lot.code, gross="335.7", tare="85.3", unit="g", balance=bal
    )
    with pytest.raises(ValidationError, match="Say why"):
        dispense_manual(**common, reason="", verifier=op2, verifier_password=password)
    with pytest.raises(ValidationError, match="second person"):
        dispense_manual(**common, reason="Balance display broken", verifier=None, verifier_password="")
    with pytest.raises(ValidationError, match="someone other"):
        dispense_manual(**common, reason="Balance display broken", verifier=op, verifier_password=password)
    entry = dispense_manual(**common, reason="Balance display broken", verifier=op2, verifier_password=password)
    assert entry.manual and entry.net == Decimal("250.4") and entry.verified_by == op2 and entry.read_at is None
    from batches.services.review import batch_exceptions

    found = [e for e in batch_exceptions(batch) if e.kind == "manual_weight"]
    assert len(found) == 1 and "Balance display broken" in found[0].detail and entry.container_code in found[0].where


def test_label_goes_to_printer_and_reprint_needs_reason(sim, bal, line, lot, batch, users, settings):
    printer = LabelPrinterSimulator().start()
    settings.MES_LABEL_PRINTER = printer.address
    try:
        weigh(sim, bal)
        entry = dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
        pdf, zpl = dispense_label(user=users["operator"], entry=entry)
        assert pdf.startswith(b"%PDF")
        import time

        for _ in range(50):
            if printer.jobs:
                break
            time.sleep(0.02)
        assert printer.jobs == [zpl]
        assert "^BCN" in zpl and "^BQN" in zpl and entry.container_code in zpl and "NET 250.4 g" in zpl
        assert lot.code in zpl and batch.number in zpl
        with pytest.raises(ValidationError, match="printed before"):
            dispense_label(user=users["operator"], entry=entry)
        dispense_label(user=users["operator"], entry=entry, reason="Label torn")
        entry.refresh_from_db()
        assert entry.labels_printed == 2
    finally:
        printer.stop()


def test_printer_down_is_reported_and_not_counted(sim, bal, line, lot, batch, users, settings):
    settings.MES_LABEL_PRINTER = "127.0.0.1:1"
    weigh(sim, bal)
    entry = dispense_capture(user=users["operator"], batch=batch, requirement=line, lot_code=lot.code, balance=bal)
    with pytest.raises(ValidationError, match="cannot be reached"):
        dispense_label(user=users["operator"], entry=entry)
    entry.refresh_from_db()
    assert entry.labels_printed == 0
