"""Material balance of a batch: issued, returned, waste, consumed, output and yield, with flags.

The quality side turns the flags into deviations: `batch_material_balance(...).flags` lists what
is outside its limits, each with a code and a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext_noop

from materials.models import EntryType, LedgerEntry
from materials.requirements import Requirement
from materials.services.common import fmt_stored
from mes.generated import GeneratedText
from mes.units import convert, unit_in_text

CONSUMPTION_OUTSIDE_TOLERANCE = GeneratedText(
    gettext_noop("%(code)s: %(used)s consumed, the recipe allows %(req)s ± %(tol)s %%."),
    shown={"used": unit_in_text, "req": unit_in_text},  # "6000 pcs" reads "6000 件" in Chinese
)
NO_OUTPUT = GeneratedText(gettext_noop("No output has been recorded for this batch."))
YIELD_BELOW = GeneratedText(gettext_noop("Yield %(y)s %% is below the limit of %(low)s %%."))
YIELD_ABOVE = GeneratedText(gettext_noop("Yield %(y)s %% is above the limit of %(high)s %%."))

ZERO = Decimal(0)
DEFAULT_YIELD_LIMITS = (Decimal("95"), Decimal("102"))


@dataclass
class BalanceLine:
    material_id: int
    code: str
    name: str
    unit: str
    issued: Decimal = ZERO
    returned: Decimal = ZERO
    waste: Decimal = ZERO
    required: Decimal | None = None
    tolerance_pct: Decimal | None = None

    @property
    def consumed(self) -> Decimal:
        return self.issued - self.returned - self.waste


@dataclass(frozen=True)
class BalanceFlag:
    code: str  # yield_low, yield_high, consumption_outside_tolerance, no_output
    message: str
    material_code: str = ""


@dataclass
class BatchMaterialBalance:
    batch: object
    lines: list[BalanceLine]
    output: Decimal
    output_unit: str
    theoretical: Decimal
    yield_pct: Decimal | None
    yield_limits: tuple[Decimal, Decimal]
    flags: list[BalanceFlag] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.flags


def batch_material_balance(
    *,
    batch,
    theoretical=None,
    theoretical_unit: str | None = None,
    requirements: list | None = None,
    yield_limits=DEFAULT_YIELD_LIMITS,
) -> BatchMaterialBalance:
    """The balance of `batch`. Theoretical output defaults to the batch's planned quantity."""
    rows = (
        LedgerEntry.objects.filter(batch=batch)
        .values(
            "entry_type",
            "lot__material_id",
            "lot__material__code",
            "lot__material__name",
            "lot__material__name_zh",
            "unit",
        )
        .annotate(total=Sum("quantity"))
        .order_by("lot__material__code")
    )
    lines: dict[int, BalanceLine] = {}
    output = ZERO
    out_unit = batch.unit
    for r in rows:
        if r["entry_type"] == EntryType.OUTPUT:
            output += convert(r["total"], r["unit"], batch.unit)
            continue
        line = lines.setdefault(
            r["lot__material_id"],
            BalanceLine(r["lot__material_id"], r["lot__material__code"], r["lot__material__name"], r["unit"]),
        )
        attr = {EntryType.ISSUE: "issued", EntryType.RETURN: "returned", EntryType.WASTE: "waste"}.get(r["entry_type"])
        if attr:
            setattr(line, attr, getattr(line, attr) + r["total"])
    flags: list[BalanceFlag] = []
    for req in (Requirement.of(x) for x in (requirements or [])):
        line = lines.setdefault(
            req.material.pk, BalanceLine(req.material.pk, req.material.code, req.material.name, req.material.unit)
        )
        line.required = convert(req.quantity, req.unit, line.unit)
        line.tolerance_pct = req.tolerance_pct
        margin = line.required * req.tolerance_pct / 100
        if abs(line.consumed - line.required) > margin:
            flags.append(
                BalanceFlag(
                    "consumption_outside_tolerance",
                    CONSUMPTION_OUTSIDE_TOLERANCE
                    % {
                        "code": line.code,
                        "used": fmt_stored(line.consumed, line.unit),
                        "req": fmt_stored(line.required, line.unit),
                        "tol": req.tolerance_pct,
                    },
                    line.code,
                )
            )
    theoretical = Decimal(str(theoretical)) if theoretical is not None else batch.planned_quantity
    theoretical = convert(theoretical, theoretical_unit or batch.unit, batch.unit)
    yield_pct = (output * 100 / theoretical).quantize(Decimal("0.01")) if theoretical else None
    low, high = (Decimal(str(v)) for v in yield_limits)
    if output == 0:
        flags.append(BalanceFlag("no_output", NO_OUTPUT()))
    elif yield_pct is not None and yield_pct < low:
        flags.append(BalanceFlag("yield_low", YIELD_BELOW % {"y": yield_pct, "low": low}))
    elif yield_pct is not None and yield_pct > high:
        flags.append(BalanceFlag("yield_high", YIELD_ABOVE % {"y": yield_pct, "high": high}))
    return BatchMaterialBalance(
        batch,
        sorted(lines.values(), key=lambda x: x.code),
        output,
        out_unit,
        theoretical,
        yield_pct,
        (low, high),
        flags,
    )
