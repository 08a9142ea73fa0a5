"""What must be true before a step may be signed as performed: its materials issued within tolerance.

The recipe ties a BOM line to the step that uses it (`RecipeMaterial.step_number`, frozen in the
batch record's snapshot). Signing that step asks the materials app what is in the batch now.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from batches.models import BatchRecord, StepExecution
from batches.services.preparation import batch_scale
from materials.models import Material
from materials.services.issue import issued_to_batch
from mes.prepared import PreparedQuery
from mes.units import convert, unit_label

# The snapshot alone (the record's other columns: its PDF, balance, checksum, are not read here), asked
# on every sign and on the step screen of a running step: compiled once per process (mes.prepared).
_SNAPSHOT = PreparedQuery(
    BatchRecord,
    lambda batch_id: BatchRecord.objects.filter(batch_id=batch_id).order_by("id").values_list("snapshot")[:1],
    prepare=True,
)


def batch_snapshot(batch_id: int) -> dict | None:
    """The master-record snapshot frozen in the batch's record, or None before the batch has a record."""
    rows = _SNAPSHOT.rows("snapshot", batch_id)
    return rows[0][0] if rows else None


@dataclass
class StepMaterial:
    """One BOM line of a step: the range the batch needs and the net quantity issued to it now."""

    material: str
    name: str
    unit: str
    required: Decimal
    low: Decimal
    high: Decimal
    issued: Decimal

    @property
    def ok(self) -> bool:
        return self.low <= self.issued <= self.high

    @property
    def text(self) -> str:
        return _("%(m)s: %(i)s %(u)s issued, %(lo)s–%(hi)s %(u)s needed.") % {
            "m": self.material,
            "i": _num(self.issued),
            "lo": _num(self.low),
            "hi": _num(self.high),
            "u": unit_label(self.unit),
        }

    def as_record(self) -> dict:
        data = {k: (_num(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}
        data["ok"] = self.ok
        return data


def _num(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.001')).normalize():f}"


def step_materials(step: StepExecution) -> list[StepMaterial]:
    """The BOM lines of the frozen snapshot that belong to this step, with what is issued to the batch.

    The net quantity counts every lot of the material issued to the batch (issues minus returns and
    waste), in the material's stock unit; the required quantity is scaled to the batch size.
    """

    snapshot = batch_snapshot(step.batch_id)
    if snapshot is None:
        return []
    lines = [b for b in snapshot.get("bom", []) if b.get("step_number") == step.number]
    if not lines:
        return []
    factor = batch_scale(step.batch, snapshot)
    materials = Material.objects.in_bulk([b["material"] for b in lines], field_name="code")
    result = []
    for b in sorted(lines, key=lambda b: b["position"]):
        material = materials.get(b["material"])
        if material is None:
            continue
        required = convert(Decimal(str(b["quantity"])) * factor, b["unit"], material.unit)
        tolerance = required * Decimal(str(b["tolerance_pct"])) / Decimal(100)
        result.append(
            StepMaterial(
                material=material.code,
                name=material.display_name,
                unit=material.unit,
                required=required,
                low=required - tolerance,
                high=required + tolerance,
                issued=issued_to_batch(step.batch, material),
            )
        )
    return result
