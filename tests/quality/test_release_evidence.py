"""Lot release only on evidence: a completed, passed inspection against the material's effective
specification; a specification in review (or no longer effective) judges nothing (issue 16)."""

import pytest
from django.core.exceptions import ValidationError

from materials.models import Lot
from materials.services import lot_release
from quality.models import Inspection
from quality.services import inspections as svc
from quality.services import spec_retire
from tests.quality.conftest import make_spec
from tests.quality.lots import location, receive

pytestmark = pytest.mark.django_db

NO_EVIDENCE = "no completed, passed inspection against the effective specification"


@pytest.fixture
def loc(db):
    return location()


def _pass(users, inspection):
    items = {i.name: i for i in inspection.specification.active_items()}
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=items["Assay"].pk, value="99.5")
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=items["Identification"].pk, passed=True)
    svc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=items["Appearance"].pk, passed=True)


def test_a_signature_alone_does_not_release_a_lot_never_tested(users, password, material, loc):
    lot = receive(users, material, loc)
    assert not Inspection.objects.filter(lot=lot).exists()
    with pytest.raises(ValidationError, match=NO_EVIDENCE):
        lot_release(user=users["qc"], lot=lot, password=password, reason="looks fine")
    assert Lot.objects.get(pk=lot.pk).status == "quarantine"


def test_a_specification_in_review_cannot_be_used_for_judging(users, password, material, loc):
    from quality import services

    spec = make_spec(users, password, material, approve=False)
    services.spec_submit(user=users["qc"], spec_id=spec.pk, password=password)
    lot = receive(users, material, loc)
    # No inspection can be created against it, and the lot cannot be released without one.
    assert not Inspection.objects.filter(lot=lot).exists()
    with pytest.raises(ValidationError, match="no effective"):
        svc.inspection_create(user=users["qc"], lot=lot, inspection_type="incoming")
    with pytest.raises(ValidationError, match=NO_EVIDENCE):
        lot_release(user=users["qc"], lot=lot, password=password)


def test_results_are_judged_only_against_an_effective_specification(users, password, spec, material, loc):
    lot = receive(users, material, loc)
    inspection = Inspection.objects.get(lot=lot)
    spec_retire(user=users["qa"], spec_id=spec.pk, password=password, reason="Monograph withdrawn")
    with pytest.raises(ValidationError, match="only the effective specification can be used"):
        _pass(users, inspection)
    with pytest.raises(ValidationError, match="only the effective specification can be used"):
        svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)


def test_a_failed_or_open_inspection_never_releases_and_a_passed_one_does(users, password, spec, material, loc):
    lot = receive(users, material, loc)
    inspection = Inspection.objects.get(lot=lot)
    with pytest.raises(ValidationError, match="still open"):
        lot_release(user=users["qc"], lot=lot, password=password)
    _pass(users, inspection)
    svc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)
    svc.inspection_release_lot(user=users["qc"], inspection_id=inspection.pk, password=password)
    assert Lot.objects.get(pk=lot.pk).status == "released"


def test_lot_page_refuses_the_release_without_evidence(users, password, material, loc, client_for):
    lot = receive(users, material, loc)
    qc = client_for("qc")
    page = qc.post(
        f"/materials/lots/{lot.code}/",
        {"op": "status", "action": "release", "password": password, "reason": "ok"},
        follow=True,
    )
    assert NO_EVIDENCE in page.content.decode()
    assert Lot.objects.get(pk=lot.pk).status == "quarantine"
