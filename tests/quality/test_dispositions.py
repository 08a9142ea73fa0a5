"""Nonconforming product (QC-2, QC-9): rejected lot, disposition approved by another person,
scrap written off through the materials ledger; rework recorded for the batch issue to act on."""

import pytest
from django.core.exceptions import ValidationError

from materials.models import StockBalance
from quality.models import Inspection
from quality.services import dispositions as dsvc
from quality.services import inspections as isvc
from tests.quality.lots import location, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def rejected_lot(users, password, spec, material):
    lot = receive(users, material, location(), quantity="40")
    inspection = Inspection.objects.get(lot=lot)
    for item in inspection.specification.active_items():
        if item.kind == "numeric":
            isvc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=item.pk, value="80")
        else:
            isvc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=item.pk, passed=True)
    isvc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=password)
    isvc.inspection_reject_lot(user=users["qc"], inspection_id=inspection.pk, password=password, reason="assay OOS")
    lot.refresh_from_db()
    return lot


@pytest.mark.req("QC-2")
def test_scrap_is_approved_by_another_person_and_written_off(users, password, rejected_lot):
    d = dsvc.disposition_propose(user=users["qc"], lot=rejected_lot, kind="scrap", instruction="Incinerate via EHS")
    with pytest.raises(ValidationError):
        dsvc.disposition_execute(user=users["warehouse"], disposition_id=d.pk, password=password)
    dsvc.disposition_approve(user=users["qa"], disposition_id=d.pk, password=password)
    done = dsvc.disposition_execute(user=users["warehouse"], disposition_id=d.pk, password=password)
    assert done.status == "done" and done.quantity_written_off == 40
    assert sum(b.quantity for b in StockBalance.objects.filter(lot=rejected_lot)) == 0
    rejected_lot.refresh_from_db()
    assert rejected_lot.status == "rejected"


@pytest.mark.req("QC-2")
def test_rework_is_recorded_for_the_batch_issue(users, password, rejected_lot):
    d = dsvc.disposition_propose(user=users["qc"], lot=rejected_lot, kind="rework", instruction="RI-12: re-sieve")
    dsvc.disposition_approve(user=users["qa"], disposition_id=d.pk, password=password)
    assert dsvc.approved_rework(rejected_lot) == d
    with pytest.raises(ValidationError):
        dsvc.disposition_execute(user=users["warehouse"], disposition_id=d.pk, password=password)


def test_only_nonconforming_lots_get_a_disposition(users, spec, material):
    lot = receive(users, material, location())
    with pytest.raises(ValidationError, match="nonconforming"):
        dsvc.disposition_propose(user=users["qc"], lot=lot, kind="scrap", instruction="x")


def test_proposer_cannot_approve(users, password, rejected_lot):
    from django.contrib.auth.models import Group

    qa = users["qa"]
    qa.groups.add(Group.objects.get(name="qc"))
    qa = type(qa).objects.get(pk=qa.pk)
    d = dsvc.disposition_propose(user=qa, lot=rejected_lot, kind="scrap", instruction="x")
    with pytest.raises(ValidationError):
        dsvc.disposition_approve(user=qa, disposition_id=d.pk, password=password)


@pytest.mark.req("QC-2")
def test_an_approved_rework_page_leads_to_the_rework_batch(users, password, rejected_lot, client_for):
    """Every role that sees the disposition gets the page; the supervisor is offered the start of the
    rework batch (here: told the rework record is missing first), QA and QC are told who starts it."""
    from django.urls import reverse

    d = dsvc.disposition_propose(user=users["qc"], lot=rejected_lot, kind="rework", instruction="RI-12: re-sieve")
    dsvc.disposition_approve(user=users["qa"], disposition_id=d.pk, password=password)
    url = reverse("quality:disposition_detail", args=[d.pk])
    for name in ("qa", "qc", "warehouse"):
        page = client_for(name).get(url)
        assert page.status_code == 200 and b"waiting for the production supervisor" in page.content
        assert b'data-testid="rework-start-form"' not in page.content
    page = client_for("supervisor").get(url)
    assert page.status_code == 200
    assert b"has no effective rework master batch record yet" in page.content
