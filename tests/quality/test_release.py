"""Batch release (QC-4, QC-10): every gate refuses with the reason in words; two different people;
the lot becomes available only after the production release; the ERP is notified."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from audit.signatures import SignatureError, signatures_for
from quality.models import BatchRelease, Inspection
from quality.services import deviations as dsvc
from quality.services import inspections as isvc
from quality.services import release as rsvc
from tests.quality.conftest import make_spec
from tests.quality.lots import location, make_batch, output, set_batch_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def loc(db):
    return location()


@pytest.fixture
def finished_spec(users, password, product):
    return make_spec(users, password, product, "finished")


@pytest.fixture
def batch(users, finished_spec, product, loc):
    batch = make_batch("B-001", product)
    output(users, batch, loc)
    return set_batch_status(batch, "reviewed")


def pass_inspection(users, password, batch, assay="100"):
    inspection = Inspection.objects.get(batch=batch)
    for item in inspection.specification.active_items():
        if item.kind == "numeric":
            isvc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=item.pk, value=assay)
        else:
            isvc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=item.pk, passed=True)
    return isvc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)


def unmet(batch):
    return {c.code for c in rsvc.batch_release_check(batch) if not c.met}


@pytest.mark.req("QC-4", "QC-10", "QC-9")
def test_full_release_two_people_lot_released_erp_notified(users, password, batch):
    assert unmet(batch) == {"inspections"}
    pass_inspection(users, password, batch)
    assert unmet(batch) == set()
    release = rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)
    lot = release.lot
    lot.refresh_from_db()
    assert lot.status == "quarantine"  # not yet available
    rsvc.batch_production_release(user=users["supervisor"], batch=batch, password=password)
    release.refresh_from_db()
    lot.refresh_from_db()
    assert release.status == "released" and release.released_by == users["supervisor"]
    assert lot.status == "released"
    assert [s.meaning for s in signatures_for(release)] == ["released", "released"]
    try:  # the ERP is told through the integrations outbox once that app is installed
        from integrations.models import OutboxMessage
        from integrations.services import outbox_enqueue  # noqa: F401
    except ImportError:
        assert AuditEvent.objects.filter(action="quality.erp.release_pending", object_id=str(release.pk)).exists()
    else:
        message = OutboxMessage.objects.get(system="erp", kind="batch_released", key=batch.number)
        assert message.payload["lot"] == lot.code


@pytest.mark.req("QC-4")
def test_release_refused_with_an_open_deviation(users, password, batch):
    pass_inspection(users, password, batch)
    dev = dsvc.deviation_raise(
        user=users["operator"],
        title="Yield low",
        description="89 %",
        source="yield",
        classification="minor",
        links=[("batches.batch", batch.pk, batch.number)],
    )
    with pytest.raises(ValidationError) as exc:
        rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)
    assert dev.number in " ".join(exc.value.messages)
    assert not BatchRelease.objects.exists()


@pytest.mark.req("QC-4", "QC-9")
def test_release_refused_with_a_failed_inspection(users, password, batch):
    pass_inspection(users, password, batch, assay="50")  # out of spec -> failed, and an OOS deviation
    conditions = {c.code: c for c in rsvc.batch_release_check(batch)}
    assert not conditions["inspections"].met and not conditions["deviations"].met
    assert any("OOS" in p for p in conditions["deviations"].problems)
    with pytest.raises(ValidationError):
        rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)


@pytest.mark.req("QC-4")
def test_release_refused_before_record_review(users, password, batch):
    pass_inspection(users, password, batch)
    set_batch_status(batch, "under_review")
    with pytest.raises(ValidationError, match="reviewed"):
        rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)


@pytest.mark.req("QC-4", "SEC-3")
def test_release_refused_without_a_valid_signature(users, password, batch):
    pass_inspection(users, password, batch)
    with pytest.raises(SignatureError):
        rsvc.batch_qc_release(user=users["qc"], batch=batch, password="wrong")
    assert not BatchRelease.objects.exists()
    rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)
    with pytest.raises(SignatureError):
        rsvc.batch_production_release(user=users["supervisor"], batch=batch, password="")
    assert BatchRelease.objects.get().status == "qc_released"


@pytest.mark.req("QC-10")
def test_the_same_person_cannot_release_twice(users, password, batch):
    from django.contrib.auth.models import Group

    pass_inspection(users, password, batch)
    qc = users["qc"]
    qc.groups.add(Group.objects.get(name="supervisor"))
    qc = type(qc).objects.get(pk=qc.pk)
    rsvc.batch_qc_release(user=qc, batch=batch, password=password)
    with pytest.raises(ValidationError, match="cannot also"):
        rsvc.batch_production_release(user=qc, batch=batch, password=password)
    with pytest.raises(ValidationError, match="already"):
        rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)


@pytest.mark.req("QC-10")
def test_production_release_needs_qc_release_first_and_the_supervisor(users, password, batch):
    pass_inspection(users, password, batch)
    with pytest.raises(ValidationError, match="QC released first"):
        rsvc.batch_production_release(user=users["supervisor"], batch=batch, password=password)
    with pytest.raises(PermissionDenied):
        rsvc.batch_qc_release(user=users["supervisor"], batch=batch, password=password)
    rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)
    with pytest.raises(PermissionDenied):
        rsvc.batch_production_release(user=users["operator"], batch=batch, password=password)


@pytest.mark.req("QC-10")
def test_deviation_raised_after_qc_release_blocks_production_release(users, password, batch):
    pass_inspection(users, password, batch)
    rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)
    dsvc.deviation_raise(
        user=users["supervisor"],
        title="Late finding",
        description="x",
        classification="major",
        links=[("batches.batch", batch.pk, batch.number)],
    )
    with pytest.raises(ValidationError, match="DEV-"):
        rsvc.batch_production_release(user=users["supervisor"], batch=batch, password=password)


@pytest.mark.req("QC-4", "MAT-3")
def test_output_lot_cannot_be_released_directly_in_materials(users, password, batch):
    from materials.services import lot_release

    pass_inspection(users, password, batch)
    lot = Inspection.objects.get(batch=batch).lot
    with pytest.raises(ValidationError, match="batch"):
        lot_release(user=users["qc"], lot=lot, password=password)
    rsvc.batch_qc_release(user=users["qc"], batch=batch, password=password)
    with pytest.raises(ValidationError, match="batch"):  # the supervisor's grant is only for the production release
        lot_release(user=users["supervisor"], lot=lot, password=password)


def test_cockpit_pages(client_for, users, password, batch, django_assert_max_num_queries):
    qc = client_for("qc")
    with django_assert_max_num_queries(14):
        assert qc.get("/quality/release/").status_code == 200
    page = qc.get(f"/quality/release/{batch.pk}/").content.decode()
    assert 'data-testid="cond-inspections" data-met="no"' in page and "form-qc-release" not in page
    pass_inspection(users, password, batch)
    page = qc.get(f"/quality/release/{batch.pk}/").content.decode()
    assert "form-qc-release" in page
