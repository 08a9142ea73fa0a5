"""Inspections: created on receipt, results judged against limits, OOS opens a deviation, corrections keep
the old value, signed completion, and the lot decision through the materials services (QC-1, MAT-3)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.signatures import signatures_for
from quality import services
from quality.models import Inspection, Result
from quality.selectors import open_deviations_for
from quality.services import inspections as svc
from tests.quality.conftest import make_spec
from tests.quality.lots import location, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def loc(db):
    return location()


@pytest.fixture
def inspection(users, spec, material, loc):
    lot = receive(users, material, loc)
    return Inspection.objects.get(lot=lot)


def items(inspection):
    return {i.name: i for i in inspection.specification.active_items()}


def enter_all(users, inspection, assay="99.5", ident=True, appearance=True):
    it = items(inspection)
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Assay"].pk, value=assay)
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Identification"].pk, passed=ident)
    svc.result_enter(
        user=users["qc"], inspection_id=inspection.pk, item_id=it["Appearance"].pk, passed=appearance, text="white"
    )


@pytest.mark.req("QC-1")
def test_received_lot_gets_an_incoming_inspection(inspection, spec):
    assert inspection.inspection_type == "incoming" and inspection.origin == "receipt"
    assert inspection.specification == spec and inspection.status == "due"


def test_no_spec_no_automatic_inspection(users, product, loc):
    from materials.models import Lot

    lot = receive(users, product, loc)
    assert not Inspection.objects.filter(lot=lot).exists()
    assert Lot.objects.get(pk=lot.pk).status == "quarantine"


@pytest.mark.req("QC-1", "MAT-3")
def test_passed_inspection_lets_qc_release_the_lot(users, password, inspection):
    svc.sample_take(user=users["qc"], inspection_id=inspection.pk, quantity="50", unit="g", container="1")
    enter_all(users, inspection)
    done = svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password, conclusion="ok")
    assert done.status == "passed" and [s.meaning for s in signatures_for(done)] == ["approved"]
    svc.inspection_release_lot(user=users["qc"], inspection_id=inspection.pk, password=password)
    inspection.lot.refresh_from_db()
    inspection.refresh_from_db()
    assert inspection.lot.status == "released" and inspection.lot_decision == "released"


@pytest.mark.req("QC-7", "QC-1")
def test_oos_result_opens_a_deviation_and_highlights(users, password, inspection, client_for):
    it = items(inspection)
    result = svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Assay"].pk, value="97.1")
    assert not result.conforms and result.deviation is not None
    dev = result.deviation
    assert dev.source == "oos" and dev.classification == "major" and dev.status == "open"
    assert list(open_deviations_for("materials.lot", inspection.lot_id)) == [dev]
    page = client_for("qc").get(f"/quality/inspections/{inspection.pk}/").content.decode()
    assert "OUT OF SPEC" in page and dev.number in page and 'class="oos"' in page


def test_failed_inspection_cannot_release_and_rejects_the_lot(users, password, inspection):
    enter_all(users, inspection, ident=False)
    done = svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)
    assert done.status == "failed"
    with pytest.raises(ValidationError):
        svc.inspection_release_lot(user=users["qc"], inspection_id=inspection.pk, password=password)
    svc.inspection_reject_lot(user=users["qc"], inspection_id=inspection.pk, password=password, reason="ID failed")
    inspection.lot.refresh_from_db()
    assert inspection.lot.status == "rejected"


def test_failed_inspection_can_hold_the_lot(users, password, inspection):
    enter_all(users, inspection, assay="50")
    svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)
    svc.inspection_hold_lot(user=users["qc"], inspection_id=inspection.pk, reason="OOS investigation")
    inspection.lot.refresh_from_db()
    assert inspection.lot.status == "blocked"


@pytest.mark.req("QC-1", "AUD-3")
def test_correction_keeps_the_old_value_and_needs_a_reason(users, inspection):
    it = items(inspection)
    first = svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Assay"].pk, value="99.0")
    with pytest.raises(ValidationError):
        svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Assay"].pk, value="99.1")
    with pytest.raises(ValidationError):
        svc.result_correct(user=users["qc"], result_id=first.pk, reason=" ", value="99.1")
    new = svc.result_correct(user=users["qc"], result_id=first.pk, reason="transcription error", value="99.1")
    first.refresh_from_db()
    assert first.value_numeric == Decimal("99.0") and not first.current
    assert new.current and new.replaces == first and new.correction_reason == "transcription error"
    assert Result.objects.filter(inspection=inspection, item=it["Assay"]).count() == 2


def test_correction_to_out_of_spec_opens_oos(users, inspection):
    it = items(inspection)
    first = svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Assay"].pk, value="99.0")
    new = svc.result_correct(user=users["qc"], result_id=first.pk, reason="recalculated", value="103")
    assert new.deviation is not None and new.deviation.source == "oos"


def test_complete_needs_every_result(users, password, inspection):
    it = items(inspection)
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Assay"].pk, value="99.0")
    with pytest.raises(ValidationError, match="Missing"):
        svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)


def test_completed_inspection_takes_no_more_results(users, password, inspection):
    enter_all(users, inspection)
    svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)
    result = inspection.results.filter(current=True).first()
    with pytest.raises(ValidationError):
        svc.result_correct(user=users["qc"], result_id=result.pk, reason="late", value="99")


@pytest.mark.req("MAT-3")
def test_materials_release_refused_while_inspection_open(users, password, inspection):
    from materials.services import lot_release

    with pytest.raises(ValidationError, match="inspection"):
        lot_release(user=users["qc"], lot=inspection.lot, password=password)


def test_open_oos_blocks_release_even_after_passing_correction(users, password, inspection):
    it = items(inspection)
    bad = svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Assay"].pk, value="90")
    svc.result_correct(user=users["qc"], result_id=bad.pk, reason="lab error confirmed", value="99.2")
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Identification"].pk, passed=True)
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=it["Appearance"].pk, passed=True)
    svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)
    with pytest.raises(ValidationError, match="still open"):
        svc.inspection_release_lot(user=users["qc"], inspection_id=inspection.pk, password=password)


def test_manual_inspection_needs_effective_spec(users, product, loc):
    lot = receive(users, product, loc)
    with pytest.raises(ValidationError, match="no effective"):
        svc.inspection_create(user=users["qc"], lot=lot, inspection_type="incoming")
    make_spec(users, "Pharma-MES-2026!", product, "incoming")
    made = svc.inspection_create(user=users["qc"], lot=lot, inspection_type="incoming")
    assert made.origin == "manual"


def test_worklist_page(client_for, users, spec, material, loc, django_assert_max_num_queries):
    for _ in range(4):
        receive(users, material, loc)
    qc = client_for("qc")
    with django_assert_max_num_queries(14):
        response = qc.get("/quality/inspections/")
    assert response.status_code == 200 and response.content.decode().count("INS-") >= 4
    assert services  # the package exports stay importable
