"""Deviations with two people: a downgrade is QA's with a reason and shows in the batch review, the
investigator does not approve the closure, major/critical close only with a CAPA or QA's signed
justification (issue 16)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.signatures import signatures_for
from quality import services
from quality.models import Deviation, DeviationStatus
from tests.quality.lots import make_batch
from tests.quality.test_deviations import add_capa, raise_dev, to_capa_pending

pytestmark = pytest.mark.django_db


def test_only_qa_downgrades_with_a_reason_and_it_is_kept(users, password):
    dev = raise_dev(users, "major", by="operator")
    with pytest.raises(ValidationError, match="Only QA may downgrade"):
        services.deviation_investigate(
            user=users["qc"], deviation_id=dev.pk, password=password, classification="minor", reason="small"
        )
    with pytest.raises(ValidationError, match="reason"):
        services.deviation_investigate(user=users["qa"], deviation_id=dev.pk, password=password, classification="minor")
    services.deviation_investigate(
        user=users["qa"], deviation_id=dev.pk, password=password, classification="minor", reason="No product impact"
    )
    dev = Deviation.objects.get(pk=dev.pk)
    assert (dev.classification, dev.original_classification, dev.reclassified_by) == ("minor", "major", users["qa"])
    assert dev.downgraded and dev.reclassification_reason == "No product impact"


def test_qc_may_upgrade_with_a_reason(users, password):
    dev = raise_dev(users, "minor", by="operator")
    services.deviation_investigate(
        user=users["qc"], deviation_id=dev.pk, password=password, classification="critical", reason="Sterility"
    )
    dev = Deviation.objects.get(pk=dev.pk)
    assert dev.classification == "critical" and not dev.downgraded


def test_the_investigator_cannot_approve_the_closure(users, password):
    dev = raise_dev(users, "minor", by="operator")
    to_capa_pending(dev, users, password, who="qa")
    with pytest.raises(ValidationError, match="You investigated this deviation"):
        services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)
    services.deviation_close(user=users["qc"], deviation_id=dev.pk, closure_summary="ok", password=password)
    assert Deviation.objects.get(pk=dev.pk).status == DeviationStatus.CLOSED


def test_major_closes_without_capa_only_on_qa_signed_justification(users, password):
    dev = raise_dev(users, "major", by="operator")
    to_capa_pending(dev, users, password)
    with pytest.raises(ValidationError, match="signed justification"):
        services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.deviation_close(
            user=users["supervisor"],
            deviation_id=dev.pk,
            closure_summary="ok",
            password=password,
            no_capa_justification="One-off",
        )
    services.deviation_close(
        user=users["qa"],
        deviation_id=dev.pk,
        closure_summary="Sensor replaced under the PM plan",
        password=password,
        no_capa_justification="Root cause already covered by CAPA-2026-0007",
    )
    dev = Deviation.objects.get(pk=dev.pk)
    assert dev.status == DeviationStatus.CLOSED and "CAPA-2026-0007" in dev.no_capa_justification
    closing = [s for s in signatures_for(dev) if s.meaning == "closed"]
    assert [s.signer for s in closing] == [users["qa"]]


def test_with_a_capa_no_justification_is_needed(users, password):
    dev = raise_dev(users, "major", by="operator")
    to_capa_pending(dev, users, password)
    add_capa(dev, users)
    services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)
    assert Deviation.objects.get(pk=dev.pk).no_capa_justification == ""


def test_downgrade_shows_in_the_batch_review_and_on_the_page(users, password, client_for, product):
    from batches.services.review import batch_deviations, batch_exceptions

    batch = make_batch("B-DG-1", product)
    dev = raise_dev(users, "critical", by="operator", links=[batch])
    services.deviation_investigate(
        user=users["qa"], deviation_id=dev.pk, password=password, classification="major", reason="Contained in IPC"
    )
    assert [d.pk for d in batch_deviations(batch, [], [])] == [dev.pk]
    (exc,) = [x for x in batch_exceptions(batch) if x.kind == "deviation"]
    assert "downgraded from Critical" in exc.detail and "Contained in IPC" in exc.detail
    page = client_for("qc").get(f"/quality/deviations/{dev.pk}/")
    assert 'data-testid="reclassified"' in page.content.decode() and "Contained in IPC" in page.content.decode()


def test_close_page_takes_the_justification(users, password, client_for):
    dev = raise_dev(users, "major", by="operator")
    to_capa_pending(dev, users, password)
    qa = client_for("qa")
    assert "Justification for closing without a CAPA" in qa.get(f"/quality/deviations/{dev.pk}/").content.decode()
    qa.post(
        f"/quality/deviations/{dev.pk}/close/",
        {"closure_summary": "done", "password": password, "reason": "", "no_capa_justification": "Duplicate event"},
    )
    dev = Deviation.objects.get(pk=dev.pk)
    assert dev.status == DeviationStatus.CLOSED and dev.no_capa_justification == "Duplicate event"
