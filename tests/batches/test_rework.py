"""Rework, end to end (issue 16, QC-2): a lot made by a really executed batch fails QC and is rejected;
QA approves a rework disposition; the supervisor starts a rework batch (signed) from the product's
rework master batch record; the nonconforming lot goes into that batch and nowhere else; the rework
batch runs with its own record and signatures and makes a new lot, linked in the genealogy to the
original and inspected by QC again."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import Signature
from audit.signatures import SignatureError
from batches import services as s
from batches.models import BatchStatus
from materials.models import Lot
from tests.batches.conftest import PW, fresh, make_equipment, run_all_steps
from tests.batches.rework import (
    approved_rework,
    build_rework_recipe,
    execute_batch,
    fail_and_reject,
    intermediate_spec,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def nonconforming(running, users):
    """{lot, other_batch, ...}: batch 1 executed, its output lot failed and rejected by QC."""
    intermediate_spec(users)
    execute_batch(running["batch"], users, running["lots"])
    lot = Lot.objects.get(produced_by=running["batch"])
    assert lot.status == "quarantine"
    running["lot"] = fail_and_reject(lot, users)
    running["other_batch"] = running["order"].batches.exclude(pk=running["batch"].pk).get()
    return running


def _start(users, disposition, **kw):
    return s.batch_create_rework(
        user=fresh(users["supervisor"]),
        disposition_id=disposition.pk,
        operators=kw.pop("operators", [users["operator"], users["operator2"]]),
        password=kw.pop("password", PW),
        **kw,
    )


def _run_rework(batch, users, lot, output="190"):
    from materials.services import lot_issue_to_batch

    s.batch_line_clearance_sign(user=fresh(users["supervisor"]), batch=batch, password=PW, confirmed=True)
    s.batch_mark_ready(user=fresh(users["supervisor"]), batch=batch, password=PW)
    s.batch_start(user=fresh(users["supervisor"]), batch=batch)
    (req,) = s.batch_bom_lines(batch)
    lot_issue_to_batch(
        user=fresh(users["operator"]), batch=batch, lot_code=lot.code, quantity=req.quantity, unit=req.unit,
        requirement=req,
    )  # fmt: skip
    run_all_steps(batch, users)
    return s.batch_complete(user=fresh(users["operator"]), batch=batch, password=PW, output_quantity=output)


@pytest.mark.req("QC-2", "QC-8", "MAT-8")  # QC-8: the intermediate lot failed its inspection (fixture)
def test_an_approved_rework_becomes_a_rework_batch_whose_new_lot_goes_back_to_qc(nonconforming, users):
    from materials.genealogy import trace_lot
    from quality.models import Disposition, Inspection
    from quality.seed_evidence import lot_release_on_evidence

    lot = nonconforming["lot"]
    recipe = build_rework_recipe(users)
    disposition = approved_rework(lot, users)

    batch = _start(users, disposition)
    assert batch.rework_lot == lot and batch.recipe == recipe and batch.order is None
    assert batch.planned_quantity == 196 and batch.status == BatchStatus.PLANNED
    assert Signature.objects.filter(
        object_id=str(batch.pk), action="batches.batch.create_rework", username="supervisor"
    ).exists()
    disposition = Disposition.objects.get(pk=disposition.pk)
    assert disposition.status == "done" and disposition.rework_batch == batch

    done = _run_rework(batch, users, lot)
    assert done.status == BatchStatus.COMPLETED
    assert done.record.snapshot["recipe_id"] == recipe.pk  # its own eBR, from the rework record
    new_lot = Lot.objects.get(produced_by=batch)
    assert new_lot.status == "quarantine" and new_lot.expiry_date == lot.expiry_date
    inspection = Inspection.objects.get(lot=new_lot)
    assert inspection.status == "due" and inspection.origin == "batch_output"
    back = trace_lot(new_lot)
    assert lot.code in {n.code for n in back.lots.values()}
    assert "RM-API-001" in {n.material_code for n in back.lots.values()}  # the whole history, through the original
    lot.refresh_from_db()
    assert lot.status == "rejected"  # the original stays nonconforming, its stock now in the rework batch
    assert lot_release_on_evidence(lot=new_lot, qc=users["qc"], qa=users["qa"], password=PW).status == "released"


@pytest.mark.req("QC-2", "MAT-3")
def test_a_nonconforming_lot_goes_into_its_rework_batch_only(nonconforming, users):
    from materials.models import Material
    from materials.services import lot_issue_to_batch

    lot, other = nonconforming["lot"], nonconforming["other_batch"]
    make_equipment("GRAN-02", "GRAN"), make_equipment("FBD-02", "FBD")
    s.batch_line_clearance_sign(user=fresh(users["supervisor"]), batch=other, password=PW, confirmed=True)
    s.batch_mark_ready(user=fresh(users["supervisor"]), batch=other, password=PW)
    s.batch_start(user=fresh(users["supervisor"]), batch=other)

    def issue_to_other():
        lot_issue_to_batch(
            user=fresh(users["operator"]), batch=other, lot_code=lot.code, quantity="10", unit="kg",
            material=Material.objects.get(code="IM-GRN-500"), required_quantity="10",
        )  # fmt: skip

    with pytest.raises(ValidationError, match="rejected by QC"):
        issue_to_other()
    build_rework_recipe(users)
    rework = _start(users, approved_rework(lot, users))
    with pytest.raises(ValidationError, match=f"only be issued to its rework batch {rework.number}"):
        issue_to_other()
    _run_rework(rework, users, lot)  # ...where it is accepted


def test_a_rework_batch_needs_an_approved_rework_and_a_rework_record(nonconforming, users):
    from quality.services import dispositions as dsvc

    lot = nonconforming["lot"]
    proposed = dsvc.disposition_propose(user=users["qc"], lot=lot, kind="rework", instruction="RI-7")
    with pytest.raises(ValidationError, match="approved rework disposition"):
        _start(users, proposed)
    disposition = dsvc.disposition_approve(user=users["qa"], disposition_id=proposed.pk, password=PW)
    with pytest.raises(ValidationError, match="no effective rework master batch record"):
        _start(users, disposition)
    build_rework_recipe(users)
    with pytest.raises(PermissionDenied):
        s.batch_create_rework(user=fresh(users["operator"]), disposition_id=disposition.pk, operators=[], password=PW)
    with pytest.raises(SignatureError):
        _start(users, disposition, password="wrong")
    with pytest.raises(ValidationError, match="operator"):
        _start(users, disposition, operators=[users["qc"]])
    _start(users, disposition)
    with pytest.raises(ValidationError, match="carried out"):
        _start(users, disposition)  # one rework batch per disposition


def test_orders_never_run_on_a_rework_record(running, users):
    from materials.models import Material
    from orders.services import order_problems
    from orders.services.recipes import effective_recipe

    product = Material.objects.get(code="IM-GRN-500")
    rework = build_rework_recipe(users)
    assert effective_recipe(product) == running["recipe"]  # both effective: one of each purpose
    assert effective_recipe(product, "rework") == rework
    order = running["order"]
    order.recipe = rework
    assert any("rework" in p for p in order_problems(order))
