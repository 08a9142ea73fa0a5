"""Goods receipt, lot numbers, the lot status machine, storage conditions and labels."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent, Signature
from audit.signatures import SignatureError
from materials.labels import labels_pdf
from materials.models import EntryType, LabelPrint, Lot
from materials.services import (
    lot_block,
    lot_print_labels,
    lot_receive,
    lot_reject,
    lot_release,
    lot_unblock,
    on_hand,
)
from quality.seed_evidence import inspection_pass

pytestmark = pytest.mark.django_db


@pytest.mark.req("MAT-1", "MAT-6", "MAT-2")
def test_receipt_creates_a_quarantined_lot_with_a_unique_number_and_a_receipt_entry(receive, api, wh):
    first = receive(api, "120.5", containers=3, reference="DN-1")
    second = receive(api, "10")
    assert first.code != second.code and first.code.startswith("R")
    assert first.status == "quarantine" and first.quantity_received == Decimal("120.500")
    assert (first.supplier, first.supplier_lot, first.containers) == ("Acme", "S-1", 3)
    (entry,) = first.entries.all()
    assert entry.entry_type == EntryType.RECEIPT and entry.delta == Decimal("120.5") and entry.location == wh
    assert on_hand(first) == Decimal("120.5")
    assert AuditEvent.objects.filter(action="materials.lot.receive", object_id=str(first.pk)).exists()
    assert AuditEvent.objects.filter(action="materials.ledger.receipt").count() == 2


@pytest.mark.req("MAT-6")
def test_receipt_converts_units_and_derives_expiry_from_shelf_life(users, api, wh):
    lot = lot_receive(
        user=users["warehouse"],
        material=api,
        quantity="2500",
        unit="g",
        location=wh,
        manufacture_date=timezone.localdate(),
    )
    assert lot.quantity_received == Decimal("2.500") and lot.unit == "kg"
    assert lot.expiry_date == timezone.localdate() + dt.timedelta(days=365)


@pytest.mark.req("MAT-4")
def test_receipt_of_expired_material_and_wrong_dates_is_refused(users, api, wh):
    with pytest.raises(ValidationError, match="expired"):
        lot_receive(
            user=users["warehouse"],
            material=api,
            quantity=1,
            unit="kg",
            location=wh,
            expiry_date=timezone.localdate() - dt.timedelta(days=1),
        )
    with pytest.raises(ValidationError, match="after the manufacture date"):
        lot_receive(
            user=users["warehouse"],
            material=api,
            quantity=1,
            unit="kg",
            location=wh,
            manufacture_date=timezone.localdate(),
            expiry_date=timezone.localdate(),
        )
    with pytest.raises(ValidationError):
        lot_receive(user=users["warehouse"], material=api, quantity=1, unit="L", location=wh)  # kg vs L
    assert not Lot.objects.exists()


def test_put_away_where_the_storage_condition_is_not_met_is_refused(receive, cold_material, wh, cold_room):
    with pytest.raises(ValidationError, match="must be stored"):
        receive(cold_material, "5", location=wh)
    lot = receive(cold_material, "5", location=cold_room)
    assert on_hand(lot, cold_room) == 5


def test_only_the_warehouse_receives(users, api, wh):
    with pytest.raises(PermissionDenied):
        lot_receive(user=users["operator"], material=api, quantity=1, unit="kg", location=wh)


@pytest.mark.req("MAT-3", "SEC-3")
def test_qc_release_is_signed_and_needs_the_password(receive, api, users, password):
    lot = receive(api)
    inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)
    with pytest.raises(SignatureError):
        lot_release(user=users["qc"], lot=lot, password="wrong")
    with pytest.raises(PermissionDenied):
        lot_release(user=users["warehouse"], lot=lot, password=password)
    lot = lot_release(user=users["qc"], lot=lot, password=password, reason="complies")
    assert lot.status == "released"
    sig = Signature.objects.get(object_type="materials.lot", object_id=str(lot.pk))
    assert sig.meaning == "released" and sig.username == "qc"


@pytest.mark.req("MAT-3")
def test_reject_needs_a_reason_and_is_final(receive, api, users, password):
    lot = receive(api)
    with pytest.raises(ValidationError):
        lot_reject(user=users["qc"], lot=lot, password=password, reason="")
    lot = lot_reject(user=users["qc"], lot=lot, password=password, reason="assay OOS")
    assert lot.status == "rejected" and lot.status_reason == "assay OOS"
    with pytest.raises(ValidationError):
        lot_release(user=users["qc"], lot=lot, password=password)


@pytest.mark.req("MAT-3")
def test_block_and_unblock_return_the_lot_to_where_it_was(receive, released, api, users, password):
    rel = released(api)
    qua = receive(api)
    with pytest.raises(ValidationError):
        lot_block(user=users["warehouse"], lot=rel, reason=" ")
    for lot in (rel, qua):
        lot_block(user=users["warehouse"], lot=lot, reason="drum damaged")
    with pytest.raises(PermissionDenied):
        lot_unblock(user=users["warehouse"], lot=rel, password=password, reason="ok")
    assert lot_unblock(user=users["qa"], lot=rel, password=password, reason="inspected, fine").status == "released"
    assert lot_unblock(user=users["qa"], lot=qua, password=password, reason="inspected").status == "quarantine"


def test_a_block_leaves_the_release_signature_valid_a_changed_lot_does_not(released, api, users):
    """A block is a status change (with its reason), not a change to what QC released: the release
    signature stays valid through it. A change to the lot itself after release invalidates it."""
    from audit.context import audit_context
    from audit.signatures import signature_is_valid, signatures_for

    lot = released(api)
    lot_block(user=users["warehouse"], lot=lot, reason="drum damaged on the forklift")
    lot = Lot.objects.get(pk=lot.pk)
    (release,) = signatures_for(lot)
    assert release.meaning == "released" and lot.status == "blocked" and signature_is_valid(release, lot)
    lot.expiry_date += dt.timedelta(days=30)
    with audit_context(actor=users["admin"], reason="tamper test"):
        lot.save()
    assert not signature_is_valid(release, Lot.objects.get(pk=lot.pk))


@pytest.mark.req("MAT-4")
def test_expiry_is_derived_from_the_date_whatever_the_stored_status(released, api, users, password, monkeypatch):
    lot = released(api, expiry_date=timezone.localdate() + dt.timedelta(days=3))
    assert lot.effective_status == "released"
    later = timezone.localdate() + dt.timedelta(days=4)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    lot.refresh_from_db()
    assert lot.status == "released" and lot.effective_status == "expired" and lot.is_expired
    assert str(lot.get_effective_status_display()) == "Expired"
    quarantined = Lot.objects.get(pk=lot.pk)
    assert quarantined.is_expired


@pytest.mark.req("MAT-4")
def test_an_expired_lot_cannot_be_released(receive, api, users, password, monkeypatch):
    lot = receive(api, expiry_date=timezone.localdate() + dt.timedelta(days=1))
    later = timezone.localdate() + dt.timedelta(days=2)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    with pytest.raises(ValidationError, match="expired"):
        lot_release(user=users["qc"], lot=lot, password=password)


@pytest.mark.req("MAT-1", "AUD-1")
def test_labels_render_and_a_reprint_needs_a_reason_and_is_audited(receive, api, users):
    lot = receive(api, containers=2)
    locked, record = lot_print_labels(user=users["warehouse"], lot=lot)
    assert record.containers == "1,2" and not record.reprint
    pdf = labels_pdf(locked, [1, 2], users["warehouse"], False)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    with pytest.raises(ValidationError, match="reason"):
        lot_print_labels(user=users["warehouse"], lot=lot, containers=[2])
    _, again = lot_print_labels(user=users["warehouse"], lot=lot, containers=[2], reason="label torn")
    assert again.reprint and again.reason == "label torn"
    assert AuditEvent.objects.filter(action="materials.label.reprint", reason="label torn").count() == 1
    assert LabelPrint.objects.filter(lot=lot).count() == 2
    with pytest.raises(ValidationError):
        lot_print_labels(user=users["warehouse"], lot=lot, containers=[3], reason="x")
    with pytest.raises(PermissionDenied):
        lot_print_labels(user=users["operator"], lot=lot, reason="x")


@pytest.mark.req("MAT-1")
def test_label_shows_chinese_and_english_name_status_expiry_and_both_barcodes(receive, api, users):
    from django.template.loader import render_to_string

    from materials.labels import code128_svg, container_code, qr_svg

    lot = receive(api, containers=1)
    code = container_code(lot.code, 1)
    html = render_to_string(
        "materials/pdf/labels.html",
        {
            "lot": lot,
            "material": api,
            "printed_by": users["warehouse"],
            "reprint": False,
            "printed_at": timezone.now(),
            "labels": [{"number": 1, "code": code, "barcode": code128_svg(code), "qr": qr_svg(code)}],
        },
    )
    assert "盐酸二甲双胍" in html and "Metformin HCl" in html and "Quarantine" in html
    assert lot.expiry_date.isoformat() in html and html.count("data:image/svg+xml;base64,") == 2
    assert code == f"{lot.code}/001"
