"""Issue to a batch: every refusal in words and in the audit trail, tolerance, second person, FEFO,
returns, waste and the batch's output lot."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent, Signature
from audit.signatures import SignatureError
from materials.models import EntryType, GenealogyEdge
from materials.requirements import Requirement, requirement_from_token, requirement_token
from materials.services import (
    issued_to_batch,
    lot_block,
    lot_check_scan,
    lot_create_output,
    lot_issue_to_batch,
    lot_record_waste,
    lot_return_from_batch,
    lot_suggest_fefo,
    on_hand,
)
from tests.materials.conftest import make_batch

pytestmark = pytest.mark.django_db


def issue(users, batch, lot, qty, material, required="50", tol=2, **kw):
    return lot_issue_to_batch(
        user=users.get("as", users["operator"]) if isinstance(users, dict) else users,
        batch=batch,
        lot_code=lot if isinstance(lot, str) else lot.code,
        quantity=qty,
        unit=kw.pop("unit", "kg"),
        material=material,
        required_quantity=required,
        tolerance_pct=tol,
        **kw,
    )


def refused(users, batch, lot, qty, material, match, **kw):
    before = AuditEvent.objects.filter(action="materials.issue_refused").count()
    with pytest.raises(ValidationError, match=match) as info:
        issue(users, batch, lot, qty, material, **kw)
    events = AuditEvent.objects.filter(action="materials.issue_refused").order_by("seq")
    assert events.count() == before + 1, "every refused scan is audited"
    event = events.last()
    assert event.reason == " ".join(info.value.messages) and event.object_id == str(batch.pk)
    return event


@pytest.mark.req("MAT-3", "MAT-7", "MAT-8")
def test_a_released_lot_of_the_right_material_is_issued_and_linked_to_the_batch(released, api, batch, users, wh):
    lot = released(api, "80")
    entry = issue(users, batch, lot.code + "/001", "50", api)  # a container label scanned
    assert entry.entry_type == EntryType.ISSUE and entry.delta == -50 and entry.batch == batch
    assert entry.location == wh and entry.actor == users["operator"]
    assert on_hand(lot) == 30 and issued_to_batch(batch, material=api) == 50
    assert GenealogyEdge.objects.filter(lot=lot, batch=batch).count() == 1
    assert AuditEvent.objects.filter(action="materials.ledger.issue", object_id=str(entry.pk)).exists()


@pytest.mark.req("MAT-7")
def test_wrong_material_is_refused_and_audited(released, api, excipient, batch, users):
    lot = released(excipient)
    event = refused(users, batch, lot, "50", api, "Wrong material")
    assert event.new["lot"] == lot.code and event.username == "operator"


@pytest.mark.req("MAT-3")
def test_quarantined_and_rejected_lots_are_refused(receive, api, batch, users, password):
    from materials.services import lot_reject

    lot = receive(api)
    refused(users, batch, lot, "50", api, "quarantine")
    lot_reject(user=users["qc"], lot=lot, password=password, reason="OOS")
    refused(users, batch, lot, "50", api, "rejected")


@pytest.mark.req("MAT-4")
def test_expired_lot_is_refused_the_day_after_its_expiry(released, api, batch, users, monkeypatch):
    lot = released(api, expiry_date=timezone.localdate() + dt.timedelta(days=1))
    later = timezone.localdate() + dt.timedelta(days=2)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    refused(users, batch, lot, "50", api, "expired")


@pytest.mark.req("MAT-4")
def test_retest_due_lot_is_refused(released, api, batch, users, monkeypatch):
    lot = released(api, retest_date=timezone.localdate() + dt.timedelta(days=1))
    later = timezone.localdate() + dt.timedelta(days=2)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    refused(users, batch, lot, "50", api, "retest")


@pytest.mark.req("MAT-3")
def test_blocked_lot_is_refused_with_the_block_reason(released, api, batch, users):
    lot = released(api)
    lot_block(user=users["warehouse"], lot=lot, reason="drum damaged")
    refused(users, batch, lot, "50", api, "blocked \\(drum damaged\\)")


def test_short_supply_is_refused(released, api, batch, users):
    lot = released(api, "20")
    refused(users, batch, lot, "30", api, "only 20 kg left", required="30")


def test_unknown_lot_and_closed_batch_are_refused(released, api, granules, users):
    lot = released(api)
    planned = make_batch("B-PLANNED", granules, status="planned")
    refused(users, planned, lot, "50", api, "cannot be booked")
    running = make_batch("B-RUN", granules)
    refused(users, running, "R000000-9999", "50", api, "not known")


@pytest.mark.req("MAT-7")
def test_quantity_outside_the_bom_tolerance_is_refused(released, api, batch, users):
    lot = released(api, "100")
    refused(users, batch, lot, "51.5", api, "Too much")  # 50 kg ± 2 % allows 49..51
    refused(users, batch, lot, "48", api, "Too little")
    refused(users, batch, lot, "51.5", api, "Too much", unit="kg")
    issue(users, batch, lot, "49000", api, unit="g", required_unit="kg")  # 49 kg weighed in grams
    refused(users, batch, lot, "2.5", api, "at most 2 kg more")


@pytest.mark.req("MAT-7", "MAT-8")
def test_a_batch_takes_two_lots_of_the_same_material_when_the_first_runs_out(released, api, batch, users):
    first = released(api, "30", expiry_date=timezone.localdate() + dt.timedelta(days=100))
    second = released(api, "100", expiry_date=timezone.localdate() + dt.timedelta(days=200))
    assert [lot.code for lot in lot_suggest_fefo(material=api)] == [first.code, second.code]
    issue(users, batch, first, "30", api)  # less than the line needs, but the whole lot
    first.refresh_from_db()
    assert first.status == "consumed" and on_hand(first) == 0
    assert [lot.code for lot in lot_suggest_fefo(material=api)] == [second.code]
    issue(users, batch, second, "20", api)
    assert issued_to_batch(batch, material=api) == 50
    assert set(GenealogyEdge.objects.filter(batch=batch).values_list("lot__code", flat=True)) == {
        first.code,
        second.code,
    }


@pytest.mark.req("MAT-7", "SEC-3")
def test_second_person_verification_with_their_own_password(released, api, batch, users, password):
    lot = released(api, "100")
    line = Requirement(material=api, quantity=Decimal("50"), unit="kg", tolerance_pct=Decimal(2), second_person=True)

    def go(**kw):
        return lot_issue_to_batch(
            user=users["operator"], batch=batch, lot_code=lot.code, quantity="50", unit="kg", requirement=line, **kw
        )

    with pytest.raises(ValidationError, match="second person"):
        go()
    with pytest.raises(ValidationError, match="someone other"):
        go(verifier=users["operator"], verifier_password=password)
    with pytest.raises(SignatureError):
        go(verifier=users["operator2"], verifier_password="wrong")
    with pytest.raises(ValidationError, match="may not verify"):
        go(verifier=users["planner"], verifier_password=password)
    assert AuditEvent.objects.filter(action="materials.issue_refused").count() == 4
    entry = go(verifier=users["operator2"], verifier_password=password)
    assert entry.verified_by == users["operator2"]
    sig = Signature.objects.get(object_type="materials.ledgerentry", object_id=str(entry.pk))
    assert sig.meaning == "verified" and sig.username == "operator2"


def test_only_issuers_may_issue(released, api, batch, users):
    lot = released(api)
    with pytest.raises(PermissionDenied):
        lot_issue_to_batch(
            user=users["warehouse"],
            batch=batch,
            lot_code=lot.code,
            quantity=50,
            unit="kg",
            material=api,
            required_quantity=50,
            tolerance_pct=2,
        )
    assert AuditEvent.objects.filter(action="materials.issue_refused", username="warehouse").exists()


def test_a_bom_line_like_object_can_be_passed_as_the_requirement(released, api, batch, users):
    @dataclass
    class BomLine:  # what the recipe app will hand over, scaled to the batch size
        pk: int
        material: object
        quantity: Decimal
        unit: str
        tolerance_pct: Decimal
        second_person_verification: bool = False

    lot = released(api)
    entry = lot_issue_to_batch(
        user=users["operator"],
        batch=batch,
        lot_code=lot.code,
        quantity="10",
        unit="kg",
        requirement=BomLine(7, api, Decimal("10"), "kg", Decimal("1")),
    )
    assert entry.reason == "7"


def test_requirement_tokens_cannot_be_changed_or_moved_to_another_batch(api, batch, granules):
    req = Requirement(material=api, quantity=Decimal("12.5"), unit="kg", tolerance_pct=Decimal("1.5"))
    token = requirement_token(req, batch)
    assert requirement_from_token(token, batch) == req
    assert requirement_from_token(token[:-2] + "xx", batch) is None
    assert requirement_from_token(token, make_batch("B-OTHER", granules)) is None


@pytest.mark.req("MAT-7")
def test_the_scan_step_refuses_early_and_audits(released, receive, api, excipient, batch, users):
    good = released(api)
    line = Requirement(material=api, quantity=Decimal("50"), unit="kg", tolerance_pct=Decimal(2))
    assert lot_check_scan(user=users["operator"], batch=batch, lot_code=good.code, requirement=line).stock == 100
    with pytest.raises(ValidationError, match="Wrong material"):
        lot_check_scan(user=users["operator"], batch=batch, lot_code=released(excipient).code, requirement=line)
    assert AuditEvent.objects.filter(action="materials.issue_refused").count() == 1


@pytest.mark.req("MAT-5", "MAT-8")
def test_returns_and_waste_against_the_batch(released, api, batch, users, wh, wh2):
    lot = released(api, "60")
    issue(users, batch, lot, "50", api)
    with pytest.raises(ValidationError, match="Only 50 kg"):
        lot_return_from_batch(
            user=users["operator"], batch=batch, lot_code=lot.code, quantity=51, unit="kg", location=wh2
        )
    lot_return_from_batch(
        user=users["operator"], batch=batch, lot_code=lot.code, quantity=5, unit="kg", location=wh2, reason="left over"
    )
    lot_record_waste(
        user=users["operator"], batch=batch, lot_code=lot.code, quantity="0.5", unit="kg", reason="spilt at the mixer"
    )
    with pytest.raises(ValidationError):
        lot_record_waste(user=users["operator"], batch=batch, lot_code=lot.code, quantity=45, unit="kg", reason="x")
    assert issued_to_batch(batch, lot=lot) == Decimal("44.5")
    assert on_hand(lot) == 15 and on_hand(lot, wh2) == 5


def test_a_return_brings_a_consumed_lot_back_to_released(released, api, batch, users, wh):
    lot = released(api, "50")
    issue(users, batch, lot, "50", api)
    lot.refresh_from_db()
    assert lot.status == "consumed"
    lot_return_from_batch(user=users["operator"], batch=batch, lot_code=lot.code, quantity=2, unit="kg", location=wh)
    lot.refresh_from_db()
    assert lot.status == "released"


@pytest.mark.req("MAT-10", "MAT-8")
def test_output_lot_is_created_in_quarantine_once_per_batch(batch, users, wh, granules):
    lot = lot_create_output(user=users["operator"], batch=batch, quantity="98.5", unit="kg", location=wh)
    assert lot.status == "quarantine" and lot.produced_by == batch and lot.material == granules
    assert lot.code.startswith("I") and on_hand(lot) == Decimal("98.5")
    assert lot.entries.get().entry_type == EntryType.OUTPUT
    with pytest.raises(ValidationError, match="already has"):
        lot_create_output(user=users["operator"], batch=batch, quantity=1, unit="kg", location=wh)
    with pytest.raises(PermissionDenied):
        lot_create_output(user=users["warehouse"], batch=make_batch("B-2", granules), quantity=1, unit="kg")
