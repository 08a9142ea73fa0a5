"""The append-only inventory ledger, the balance cache and the check that proves they agree."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from audit.gmp import AuditBypassError
from audit.models import Signature
from audit.signatures import SignatureError
from materials.models import EntryType, LedgerEntry, StockBalance
from materials.services import lot_adjust, lot_record_waste, lot_ship, lot_transfer, on_hand, stock_check

pytestmark = pytest.mark.django_db


@pytest.mark.req("MAT-2")
def test_transfer_is_two_entries_of_one_movement_and_respects_storage(receive, api, wh, wh2, cold_room, users):
    lot = receive(api, "100")
    out, into = lot_transfer(
        user=users["warehouse"],
        lot=lot,
        from_location=wh,
        to_location=wh2,
        quantity="30",
        unit="kg",
        reason="re-slotting",
    )
    assert out.movement == into.movement and (out.delta, into.delta) == (Decimal("-30"), Decimal("30"))
    assert on_hand(lot, wh) == 70 and on_hand(lot, wh2) == 30 and on_hand(lot) == 100
    with pytest.raises(ValidationError, match="must be stored"):
        lot_transfer(user=users["warehouse"], lot=lot, from_location=wh, to_location=cold_room, quantity=1, unit="kg")
    with pytest.raises(ValidationError, match="Not enough stock"):
        lot_transfer(user=users["warehouse"], lot=lot, from_location=wh2, to_location=wh, quantity=31, unit="kg")
    with pytest.raises(PermissionDenied):
        lot_transfer(user=users["operator"], lot=lot, from_location=wh2, to_location=wh, quantity=1, unit="kg")
    assert stock_check() == []


@pytest.mark.req("MAT-2", "SEC-3")
def test_adjustment_needs_a_reason_and_a_signature_and_never_goes_negative(receive, api, wh, users, password):
    lot = receive(api, "10")
    with pytest.raises(ValidationError, match="reason"):
        lot_adjust(
            user=users["warehouse"], lot=lot, location=wh, quantity="-1", unit="kg", reason="", password=password
        )
    with pytest.raises(SignatureError):
        lot_adjust(
            user=users["warehouse"], lot=lot, location=wh, quantity="-1", unit="kg", reason="count", password="nope"
        )
    with pytest.raises(ValidationError):
        lot_adjust(
            user=users["warehouse"], lot=lot, location=wh, quantity="-11", unit="kg", reason="count", password=password
        )
    entry = lot_adjust(
        user=users["warehouse"],
        lot=lot,
        location=wh,
        quantity="-500",
        unit="g",
        reason="cycle count",
        password=password,
    )
    assert entry.entry_type == EntryType.ADJUSTMENT and entry.delta == Decimal("-0.5")
    assert Signature.objects.get(object_type="materials.ledgerentry", object_id=str(entry.pk)).meaning == "approved"
    assert on_hand(lot) == Decimal("9.5")


@pytest.mark.req("MAT-10")
def test_only_released_unexpired_goods_ship(released, receive, tablets, wh, users):
    lot = receive(tablets, "50")
    with pytest.raises(ValidationError, match="only released"):
        lot_ship(user=users["warehouse"], lot=lot, location=wh, quantity=1, unit="kg")
    lot = released(tablets, "50")
    lot_ship(user=users["warehouse"], lot=lot, location=wh, quantity=50, unit="kg", reference="SO-1")
    lot.refresh_from_db()
    assert on_hand(lot) == 0 and lot.status == "consumed"


def test_waste_from_stock_needs_permission_and_reason(receive, api, wh, users):
    lot = receive(api, "10")
    with pytest.raises(ValidationError):
        lot_record_waste(user=users["warehouse"], lot_code=lot.code, quantity=1, unit="kg", reason="", location=wh)
    lot_record_waste(user=users["warehouse"], lot_code=lot.code, quantity=1, unit="kg", reason="spilt", location=wh)
    assert on_hand(lot) == 9


@pytest.mark.req("MAT-2", "AUD-2")
def test_the_ledger_is_append_only(receive, api, wh):
    lot = receive(api, "10")
    with pytest.raises(AuditBypassError):
        LedgerEntry.objects.filter(lot=lot).update(quantity=1)
    with pytest.raises(AuditBypassError):
        LedgerEntry.objects.filter(lot=lot).delete()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE materials_ledgerentry SET delta = 1000 WHERE lot_id = %s", [lot.pk])


def test_the_database_refuses_a_negative_balance(receive, api, wh):
    lot = receive(api, "10")
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(lot=lot).update(quantity=Decimal("-1"))


@pytest.mark.req("MAT-2")
def test_check_stock_proves_agreement_and_finds_a_tampered_cache(receive, api, wh, wh2, users, capsys):
    lot = receive(api, "10")
    lot_transfer(user=users["warehouse"], lot=lot, from_location=wh, to_location=wh2, quantity=4, unit="kg")
    call_command("check_stock")
    assert "agree" in capsys.readouterr().out
    StockBalance.objects.filter(lot=lot, location=wh2).update(quantity=Decimal("5"))
    (mismatch,) = stock_check()
    assert (mismatch.ledger, mismatch.cached) == (Decimal("4"), Decimal("5"))
    with pytest.raises(CommandError):
        call_command("check_stock")
    assert lot.code in capsys.readouterr().out
