"""Demo inspections, a nonconforming lot and batches waiting for release (part of quality/seed.py)."""

from __future__ import annotations

from decimal import Decimal

from audit.context import audit_context, status_change_allowed
from batches.models import Batch, BatchStatus
from materials.models import Location, Lot, LotStatus, Material
from materials.services import lot_create_output, lot_receive
from mes.demo_accounts import DEMO_PASSWORD
from mes.seed import demo_user
from quality.models import BatchRelease, Disposition, Inspection
from quality.seed_evidence import ensure_effective_spec
from quality.services import inspections as isvc
from quality.services import release as rsvc
from quality.services.dispositions import disposition_approve, disposition_propose


def _results(inspection: Inspection, values: dict, qc) -> None:
    """Enter results by test name; numeric tests take a value, the others pass unless listed False."""
    for item in inspection.specification.active_items():
        if item.name in values and item.kind == "numeric":
            isvc.result_enter(user=qc, inspection_id=inspection.pk, item_id=item.pk, value=values[item.name])
        elif item.kind != "numeric":
            isvc.result_enter(
                user=qc, inspection_id=inspection.pk, item_id=item.pk, passed=values.get(item.name, True), text=""
            )


def seed_inspections() -> int:
    qc, keeper = demo_user("qc"), demo_user("warehouse")
    made = 0
    # Lots received before the specifications existed get their inspection now.
    for lot in Lot.objects.filter(status=LotStatus.QUARANTINE, inspections__isnull=True, produced_by__isnull=True):
        if not lot.is_expired and isvc.inspection_for_new_lot(user=qc, lot=lot):
            made += 1
    api = Inspection.objects.filter(lot__material__code="RM-API-001", status="due").first()
    if api:  # all within limits, completed: the lot decision waits for QC
        isvc.sample_take(user=qc, inspection_id=api.pk, quantity="50", unit="g", container="1, 4, 7")
        _results(api, {"Assay": "99.6", "Loss on drying": "0.21"}, qc)
        isvc.inspection_complete(user=qc, inspection_id=api.pk, password=DEMO_PASSWORD, conclusion="Complies")
    mgst = Inspection.objects.filter(lot__material__code="RM-EXC-030", status="due").first()
    if mgst:  # one result out of specification: an OOS deviation is open, testing continues
        isvc.sample_take(user=qc, inspection_id=mgst.pk, quantity="20", unit="g", container="2")
        _results(mgst, {"Magnesium content": "5.6"}, qc)
    foil = Material.objects.filter(code="PK-BLS-001").first()
    if foil and not Lot.objects.filter(reference="QC-DEMO-foil").exists():
        lot_receive(  # received today through the service: its inspection is created by the receipt hook
            user=keeper,
            material=foil,
            quantity=Decimal("80"),
            unit="kg",
            location=Location.objects.get(code="WH-QA1"),
            supplier="Amcor",
            supplier_lot="AMC-77812",
            reference="QC-DEMO-foil",
        )
        made += 1
    return made


def seed_nonconforming() -> int:
    lot = Lot.objects.filter(status=LotStatus.REJECTED, dispositions__isnull=True).first()
    if lot is None:
        return 0
    disposition_propose(
        user=demo_user("qc"),
        lot=lot,
        kind="destruction",
        instruction="Destroy the misprinted cartons by shredding (EHS-SOP-014); keep 10 as reference samples.",
    )
    return Disposition.objects.count()


def _granules_from_contract_manufacturer(qc, qa):
    """A lot of granules bought in from a contract manufacturer, with its incoming inspection."""

    granules = Material.objects.filter(code="IM-GRN-500").first()
    if granules is None or Lot.objects.filter(reference="QC-DEMO-rework").exists():
        return None
    ensure_effective_spec(granules, "incoming", qc=qc, qa=qa, password=DEMO_PASSWORD)
    location = Location.objects.filter(active=True, condition=granules.storage_condition).order_by("code").first()
    return lot_receive(
        user=demo_user("warehouse"), material=granules, quantity=Decimal("180"), unit="kg", location=location,
        supplier="Sinopharm CMO", supplier_lot="CMO-GR-2211", reference="QC-DEMO-rework",
    )  # fmt: skip


def seed_rework() -> int:
    """Granules from a contract manufacturer fail incoming QC (lumps, wet): QC rejects them and proposes
    rework, QA approves it; starting the rework batch is left waiting for the production supervisor."""
    qc, qa = demo_user("qc"), demo_user("qa")
    lot = _granules_from_contract_manufacturer(qc, qa)
    inspection = Inspection.objects.filter(lot=lot, status__in=("due", "in_testing")).first() if lot else None
    if inspection is None:
        return 0
    isvc.sample_take(user=qc, inspection_id=inspection.pk, quantity="30", unit="g", container="1, 3")
    _results(inspection, {"Appearance": False}, qc)
    isvc.inspection_complete(user=qc, inspection_id=inspection.pk, password=DEMO_PASSWORD)
    isvc.inspection_reject_lot(
        user=qc, inspection_id=inspection.pk, password=DEMO_PASSWORD, reason="Lumps over 2 mm; granules damp"
    )
    disposition = disposition_propose(
        user=qc,
        lot=lot,
        kind="rework",
        inspection_id=inspection.pk,
        instruction="Rework under the rework master batch record: re-mill through 1.0 mm, re-sieve, re-dry to "
        "1.0–3.0 % loss on drying; QC tests the reworked lot in full.",
    )
    disposition_approve(
        user=qa, disposition_id=disposition.pk, password=DEMO_PASSWORD, reason="Rework validated (PV-RW-007)"
    )
    return 1


def _demo_batch(number: str, product: Material, qc) -> Batch | None:
    """A finished batch with its output lot and a passed finished-product inspection.

    Demo only: batch execution (a later issue) owns the batch states; here the record review is
    stood in for by an audited status change so that the release cockpit has real work.
    """
    if Batch.objects.filter(number=number).exists():
        return None
    with audit_context(actor=demo_user("supervisor"), action="batches.batch.create", reason="demo data"):
        batch = Batch.objects.create(
            number=number,
            product=product,
            planned_quantity=Decimal("60000"),
            unit=product.unit,
            status=BatchStatus.COMPLETED,
        )
    lot_create_output(user=demo_user("operator"), batch=batch, quantity=Decimal("59400"), unit=product.unit)
    batch.refresh_from_db()
    batch.status = BatchStatus.REVIEWED
    with (
        audit_context(actor=qc, action="batches.batch.review", reason="demo data: batch record reviewed"),
        status_change_allowed(batch),
    ):
        batch.save()
    inspection = Inspection.objects.filter(batch=batch).first()
    if inspection:
        _results(inspection, {"Assay": "100.4", "Dissolution (30 min)": "93", "Related substances (total)": "0.12"}, qc)
        isvc.inspection_complete(user=qc, inspection_id=inspection.pk, password=DEMO_PASSWORD, conclusion="Complies")
    return batch


def seed_release() -> int:
    product = Material.objects.filter(code="FG-MET-500").first()
    if product is None:
        return 0
    qc = demo_user("qc")
    _demo_batch("MET500-DEMO-01", product, qc)  # every condition met: waiting for QC release
    second = _demo_batch("MET500-DEMO-02", product, qc)
    if second is not None:  # QC released: waiting for the supervisor
        rsvc.batch_qc_release(user=qc, batch=second, password=DEMO_PASSWORD, reason="All conditions met")
    return BatchRelease.objects.count()
