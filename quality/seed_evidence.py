"""Demo and test data: release a lot the way QC must, on a passed inspection (issue 16).

`lot_release_on_evidence` tests a lot against its material's effective specification (a small
identity-and-appearance specification is written and approved first when the material has none),
completes the inspection with passing results and releases the lot on it through the services.
Used by `seed_demo` and by the tests' fixtures; never by a page or a product service.
"""

from __future__ import annotations

from decimal import Decimal

from materials.models import Lot
from quality import services
from quality.models import Inspection, Specification, SpecStatus
from quality.services import inspections as isvc

GENERIC_ITEMS = [
    ("Appearance", "性状", "text", "Conforms to description"),
    ("Identification", "鉴别", "pass_fail", "Conforms to reference"),
]


def inspection_type_for(lot: Lot) -> str:
    """The inspection a lot needs: incoming when bought in, by product type when made in the plant."""
    if lot.produced_by_id is None:
        return "incoming"
    return str(isvc.TYPE_FOR_MATERIAL.get(lot.material.type, "incoming"))


def ensure_effective_spec(material, inspection_type: str, *, qc, qa, password: str) -> Specification:
    """The material's effective specification; a generic one written by QC and approved by QA if none."""
    spec = services.effective_spec(material, inspection_type)
    if spec is not None:
        return spec
    spec = services.spec_create(
        user=qc, material=material, inspection_type=inspection_type, title=f"{material.code} — identity and appearance"
    )
    for n, (name, name_zh, kind, acceptance) in enumerate(GENERIC_ITEMS, start=1):
        services.spec_item_save(
            user=qc, spec_id=spec.pk, sequence=n * 10, name=name, name_zh=name_zh, kind=kind, acceptance=acceptance
        )
    services.spec_submit(user=qc, spec_id=spec.pk, password=password)
    services.spec_approve(user=qa, spec_id=spec.pk, password=password)
    return Specification.objects.get(pk=spec.pk)


def _passing_value(item) -> Decimal:
    lo, hi = item.lower_limit, item.upper_limit
    if lo is not None and hi is not None:
        return (Decimal(lo) + Decimal(hi)) / 2
    if hi is not None:
        return Decimal(hi) / 2
    return Decimal(lo or 0) + 1


def inspection_pass(*, lot: Lot, qc, qa, password: str) -> Inspection:
    """Test the lot against the effective specification and complete the inspection, passed."""
    inspection_type = inspection_type_for(lot)
    spec = ensure_effective_spec(lot.material, inspection_type, qc=qc, qa=qa, password=password)
    inspection = Inspection.objects.filter(
        lot=lot, specification=spec, status__in=("due", "in_testing")
    ).first() or isvc.inspection_create(user=qc, lot=lot, inspection_type=inspection_type)
    for item in spec.active_items():
        if inspection.results.filter(item=item, current=True).exists():
            continue
        if item.kind == "numeric":
            isvc.result_enter(user=qc, inspection_id=inspection.pk, item_id=item.pk, value=_passing_value(item))
        else:
            isvc.result_enter(
                user=qc, inspection_id=inspection.pk, item_id=item.pk, passed=True, text=item.acceptance or "Conforms"
            )
    return isvc.inspection_complete(user=qc, inspection_id=inspection.pk, password=password, conclusion="Complies")


def lot_release_on_evidence(*, lot: Lot, qc, qa, password: str, reason: str = "") -> Lot:
    """Pass an inspection of the lot, then QC releases it on that inspection (signed)."""
    inspection = inspection_pass(lot=lot, qc=qc, qa=qa, password=password)
    isvc.inspection_release_lot(user=qc, inspection_id=inspection.pk, password=password, reason=reason)
    return Lot.objects.get(pk=lot.pk)


__all__ = ["SpecStatus", "ensure_effective_spec", "inspection_pass", "lot_release_on_evidence"]
