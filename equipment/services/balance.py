"""Balances as equipment (issue 19): the balance interlock, the daily check, tare/zero and capture.

`balance_capture` is the only way a weight reaches a GMP record: it refuses a balance that may not
be used (equipment interlock: status, qualification, calibration, cleaning, faults; plus today's
passed balance check), reads the serial number and refuses a balance that is not the one on record,
then reads a stable net weight and the tare held. Unstable, overloaded or garbled answers raise a
`BalanceError` from the driver, so nothing is recorded from them. Balance I/O happens outside any
database transaction: no lock is held while waiting for a balance to settle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.services import audit_record
from equipment.balances import BalanceDriver, BalanceError, Reading, driver_for
from equipment.models import Balance, BalanceCheck, Equipment, LogbookKind
from equipment.services.status import logbook_write, plant_date, usability_evaluate, usability_queryset
from mes.generated import GeneratedText

BALANCE_CHECK = GeneratedText(
    gettext_noop("Balance check %(verdict)s: test weight %(tw)s, %(nominal)s ± %(tol)s %(unit)s, read %(read)s."),
    words=("verdict",),
)


@dataclass(frozen=True)
class Capture:
    """A stable weighing as the balance reported it: net, tare held, gross = net + tare."""

    balance: Balance
    serial: str
    net: Decimal
    tare: Decimal
    unit: str
    raw: str
    at: object

    @property
    def gross(self) -> Decimal:
        return self.net + self.tare


def balance_get(code_or_pk) -> Balance:
    """A balance by its equipment code (as scanned) or primary key, with its metrology."""
    qs = Balance.objects.select_related("equipment", "metrology")
    found = (
        qs.filter(pk=code_or_pk).first()
        if isinstance(code_or_pk, int)
        else qs.filter(equipment__code=str(code_or_pk).strip().upper()).first()
    )
    if found is None:
        raise ValidationError(_("Balance “%(code)s” is not known. Scan the balance's label.") % {"code": code_or_pk})
    return found


def balance_problems(balance: Balance, *, at=None) -> list[str]:
    """Why this balance must not be used now (empty: it may), in operator words."""
    at = at or timezone.now()
    eq = usability_queryset().get(pk=balance.equipment_id)
    reasons = list(usability_evaluate(eq, at=at).reasons)
    if not eq.calibration_interval_days:
        reasons.append(_("No calibration interval is set for this balance: it cannot be used for GMP weighing."))
    if not hasattr(balance, "metrology"):
        reasons.append(_("The balance has no metrology data (capacity, readability, minimum weight)."))
        return reasons
    last = BalanceCheck.objects.filter(balance=balance).order_by("-performed_at", "-id").first()
    if last is None or plant_date(last.performed_at) < plant_date(at):
        reasons.append(_("The daily balance check with the test weight has not been done today."))
    elif not last.passed:
        reasons.append(
            _("The last balance check failed (%(reading)s %(unit)s for %(nominal)s): repeat it before use.")
            % {"reading": last.reading, "unit": last.unit, "nominal": last.nominal}
        )
    return reasons


@contextmanager
def balance_session(balance: Balance) -> Iterator[BalanceDriver]:
    """A connected driver on the balance whose serial number matches the record, closed afterwards."""
    driver = driver_for(balance.protocol, balance.host, balance.port, timeout=float(balance.timeout_s))
    try:
        serial = driver.serial_number()
        expected = balance.metrology.serial_number
        if serial != expected:
            raise BalanceError(
                _(
                    "Wrong balance: %(code)s should have serial number %(expected)s but the balance at %(addr)s "
                    "reports %(serial)s. Do not weigh; call the supervisor."
                )
                % {
                    "code": balance.equipment.code,
                    "expected": expected,
                    "serial": serial,
                    "addr": f"{balance.host}:{balance.port}",
                },
                f'I4 A "{serial}"',
            )
        driver.serial = serial
        yield driver
    finally:
        driver.close()


def _require_usable(balance: Balance) -> None:
    problems = balance_problems(balance)
    if problems:
        raise ValidationError(
            _("Balance %(code)s may not be used: %(why)s") % {"code": balance.equipment.code, "why": " ".join(problems)}
        )


def _in_unit(reading: Reading, balance: Balance) -> Decimal:
    if reading.unit != balance.metrology.unit:
        raise BalanceError(
            _("The balance reports in %(got)s but is set up for %(want)s: set the balance's unit.")
            % {"got": reading.unit, "want": balance.metrology.unit},
            reading.raw,
        )
    return reading.value


def balance_capture(*, balance: Balance) -> Capture:
    """A stable net weight and the tare held, from the right, usable balance (no DB writes)."""
    _require_usable(balance)
    with balance_session(balance) as drv:
        net = drv.stable_weight()
        tare = drv.tare_value()
    raw = "\n".join([f'I4 A "{drv.serial}"', net.raw, tare.raw])
    return Capture(balance, drv.serial, _in_unit(net, balance), _in_unit(tare, balance), net.unit, raw, net.at)


@dataclass(frozen=True)
class LiveWeight:
    """What the balance shows now (immediate, settled or not): for the booth's display, never recorded."""

    net: Decimal
    unit: str
    stable: bool


def balance_live(*, balance: Balance) -> LiveWeight:
    """The net weight on the pan now (`SI`), from the balance on record; nothing is written.

    The booth polls this to show the weight as material is added; only `balance_capture` (a stable
    weight from a usable balance) reaches a record.
    """
    with balance_session(balance) as drv:
        reading = drv.immediate_weight()
    return LiveWeight(_in_unit(reading, balance), reading.unit, reading.stable)


def balance_tare(*, balance: Balance) -> Reading:
    """Tare the container on the pan (the balance keeps the tare; capture reads it back)."""
    _require_usable(balance)
    with balance_session(balance) as drv:
        return drv.tare()


def balance_zero(*, balance: Balance) -> None:
    """Zero the empty balance and clear its tare."""
    _require_usable(balance)
    with balance_session(balance) as drv:
        drv.clear_tare()
        drv.zero()


def balance_check_record(*, user, balance: Balance, test_weight: str) -> BalanceCheck:
    """The daily check: the certified test weight is on the pan; the balance's stable reading is
    compared with the nominal value and tolerance of its metrology record. A fail blocks use."""
    if not user.has_perm("equipment.perform_daily_check"):
        raise PermissionDenied(_("You do not have permission to %(what)s.") % {"what": _("record daily checks")})
    test_weight = (test_weight or "").strip()
    if not test_weight:
        raise ValidationError(_("Scan or type the ID of the test weight on the pan."))
    m = balance.metrology
    with balance_session(balance) as drv:
        drv.clear_tare()
        reading = drv.stable_weight()
    value = _in_unit(reading, balance)
    passed = abs(value - m.check_weight) <= m.check_tolerance
    with transaction.atomic(), audit_context(actor=user, action="equipment.balance.check"):
        eq = Equipment.objects.select_for_update().get(pk=balance.equipment_id)
        check = BalanceCheck.objects.create(
            balance=balance,
            performed_by=user,
            test_weight=test_weight[:80],
            nominal=m.check_weight,
            reading=value,
            unit=m.unit,
            tolerance=m.check_tolerance,
            passed=passed,
            raw=f'I4 A "{drv.serial}"\n{reading.raw}',
        )
        verdict = gettext_noop("passed") if passed else gettext_noop("FAILED")  # stored in English, shown localized
        logbook_write(
            equipment=eq,
            kind=LogbookKind.DAILY_CHECK,
            user=user,
            text=BALANCE_CHECK
            % {
                "verdict": verdict,
                "tw": test_weight,
                "nominal": m.check_weight,
                "tol": m.check_tolerance,
                "unit": m.unit,
                "read": value,
            },
        )
    return check


def balance_refusal_audit(*, user, balance: Balance | None, action: str, message: str, raw: str = "") -> None:
    """Write a refused weighing to the audit trail (its own transaction: the refusal must survive)."""
    with transaction.atomic():
        audit_record(
            action=action,
            actor=user,
            obj=balance.equipment if balance is not None else None,
            reason=message,
            new={"raw": raw[:500]},
        )
