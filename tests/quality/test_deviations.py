"""Deviations and CAPA: flow, signatures, QA approval of major/critical closure (QC-11), links, overdue."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.context import audit_context
from audit.signatures import signatures_for
from quality import services
from quality.models import CAPA, DeviationStatus
from quality.selectors import open_deviations_for, overdue_capas

pytestmark = pytest.mark.django_db


def raise_dev(users, classification="major", by="qc", links=()):
    return services.deviation_raise(
        user=users[by],
        title="Something went wrong",
        description="Details",
        source="manual",
        classification=classification,
        links=links,
    )


def to_capa_pending(dev, users, password, who="qc"):
    services.deviation_investigate(user=users[who], deviation_id=dev.pk, password=password)
    return services.deviation_conclude(
        user=users[who],
        deviation_id=dev.pk,
        root_cause="cause",
        impact_assessment="none",
        password=password,
    )


def add_capa(dev, users, owner="supervisor"):
    return services.capa_create(
        user=users["qc"],
        deviation_id=dev.pk,
        kind="corrective",
        action="Fix it",
        owner=users[owner],
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )


@pytest.mark.req("QC-3")
def test_full_flow_each_step_signed(users, password):
    dev = raise_dev(users, "minor", by="operator")
    assert dev.number.startswith("DEV-") and dev.status == DeviationStatus.OPEN
    to_capa_pending(dev, users, password)
    # Closed by a second person: whoever investigated does not approve the closure.
    services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)
    dev.refresh_from_db()
    assert dev.status == DeviationStatus.CLOSED and dev.closed_by == users["qa"]
    assert [s.meaning for s in signatures_for(dev)] == ["reviewed", "authored", "closed"]


@pytest.mark.req("QC-11", "QC-3")
def test_major_deviation_cannot_close_without_qa(users, password):
    dev = raise_dev(users, "major", by="operator")
    to_capa_pending(dev, users, password)
    add_capa(dev, users)
    with pytest.raises(ValidationError, match="QA manager"):
        services.deviation_close(user=users["qc"], deviation_id=dev.pk, closure_summary="ok", password=password)
    dev.refresh_from_db()
    assert dev.status == DeviationStatus.CAPA_PENDING
    services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)
    dev.refresh_from_db()
    assert dev.status == DeviationStatus.CLOSED and dev.closed_by == users["qa"]


@pytest.mark.req("QC-11")
def test_qa_cannot_close_a_major_deviation_they_raised(users, password):
    dev = raise_dev(users, "critical", by="qa")
    to_capa_pending(dev, users, password)
    add_capa(dev, users)
    with pytest.raises(ValidationError, match="raised"):
        services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)


@pytest.mark.req("QC-3")
def test_major_deviation_needs_a_capa_to_close(users, password):
    dev = raise_dev(users, "major", by="operator")
    to_capa_pending(dev, users, password)
    with pytest.raises(ValidationError, match="corrective or preventive"):
        services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)


def test_conclusion_needs_root_cause_and_impact(users, password):
    dev = raise_dev(users)
    services.deviation_investigate(user=users["qc"], deviation_id=dev.pk, password=password)
    with pytest.raises(ValidationError):
        services.deviation_conclude(
            user=users["qc"], deviation_id=dev.pk, root_cause=" ", impact_assessment="x", password=password
        )


def test_operator_can_raise_but_not_investigate(users, password):
    dev = raise_dev(users, by="operator")
    with pytest.raises(PermissionDenied):
        services.deviation_investigate(user=users["operator"], deviation_id=dev.pk, password=password)
    with pytest.raises(PermissionDenied):
        services.deviation_raise(user=users["analyst"], title="t", description="d", classification="minor")


def test_reclassification_needs_a_reason(users, password):
    dev = raise_dev(users, "minor")
    with pytest.raises(ValidationError):
        services.deviation_investigate(user=users["qa"], deviation_id=dev.pk, password=password, classification="major")
    services.deviation_investigate(
        user=users["qa"], deviation_id=dev.pk, password=password, classification="major", reason="product impact"
    )
    dev.refresh_from_db()
    assert dev.classification == "major"


def test_open_deviations_for_a_record(users, password):
    a = raise_dev(users, "minor", links=[("batches.batch", 7, "B-7"), ("materials.lot", 3, "L-3")])
    raise_dev(users, "minor", links=[("batches.batch", 8, "B-8")])
    assert list(open_deviations_for("batches.batch", 7)) == [a]
    assert list(open_deviations_for("materials.lot", "3")) == [a]
    to_capa_pending(a, users, password)
    assert list(open_deviations_for("batches.batch", 7)) == [a]  # capa_pending is still open
    services.deviation_close(user=users["qa"], deviation_id=a.pk, closure_summary="ok", password=password)
    assert not open_deviations_for("batches.batch", 7).exists()


@pytest.mark.req("QC-3")
def test_capa_flow_owner_evidence_and_independent_verification(users, password):
    dev = raise_dev(users)
    capa = add_capa(dev, users, owner="supervisor")
    with pytest.raises(ValidationError):
        services.capa_start(user=users["maintenance"], capa_id=capa.pk)  # not the owner
    services.capa_start(user=users["supervisor"], capa_id=capa.pk)
    with pytest.raises(ValidationError):
        services.capa_submit(user=users["supervisor"], capa_id=capa.pk, evidence="", password=password)
    services.capa_submit(user=users["supervisor"], capa_id=capa.pk, evidence="done, record 12", password=password)
    services.capa_reopen(user=users["qa"], capa_id=capa.pk, reason="not effective yet")
    services.capa_submit(user=users["supervisor"], capa_id=capa.pk, evidence="redone", password=password)
    services.capa_close(user=users["qa"], capa_id=capa.pk, effectiveness="no recurrence", password=password)
    capa.refresh_from_db()
    assert capa.status == "closed" and capa.evidence == "redone"
    assert [s.meaning for s in signatures_for(capa)] == ["performed", "performed", "closed"]


def test_capa_owner_cannot_verify_own_action(users, password):
    dev = raise_dev(users)
    capa = add_capa(dev, users, owner="qa")
    services.capa_start(user=users["qa"], capa_id=capa.pk)
    services.capa_submit(user=users["qa"], capa_id=capa.pk, evidence="done", password=password)
    with pytest.raises(ValidationError):
        services.capa_close(user=users["qa"], capa_id=capa.pk, effectiveness="ok", password=password)


def test_overdue_list(users):
    dev = raise_dev(users)
    capa = add_capa(dev, users)
    assert not overdue_capas().exists()
    capa = CAPA.objects.get(pk=capa.pk)
    capa.due_date = timezone.localdate() - dt.timedelta(days=1)
    with audit_context(actor=users["qa"], reason="test"):
        capa.save()
    assert list(overdue_capas()) == [capa]


def test_capa_due_date_not_in_past(users):
    dev = raise_dev(users)
    with pytest.raises(ValidationError):
        services.capa_create(
            user=users["qc"],
            deviation_id=dev.pk,
            kind="corrective",
            action="x",
            owner=users["qc"],
            due_date=timezone.localdate() - dt.timedelta(days=1),
        )


@pytest.mark.req("QC-3")
def test_deviation_pages(client_for, users, password, django_assert_max_num_queries):
    for i in range(5):
        d = raise_dev(users, "minor", links=[("batches.batch", i, f"B-{i}")])
        add_capa(d, users)
    qa = client_for("qa")
    with django_assert_max_num_queries(13):  # constant: page counts come from two grouped queries
        assert qa.get("/quality/deviations/").status_code == 200
    with django_assert_max_num_queries(16):  # constant: one per board column, not per card
        assert qa.get("/quality/capa/").status_code == 200
    page = qa.get(f"/quality/deviations/{d.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "B-4" in body and "quality.deviation.raise" in body
    # the link's own raise event names the record it links, so the timeline tells the events apart
    assert 'data-testid="timeline-record">B-4<' in body


def test_manual_raise_page_with_unknown_link(client_for):
    op = client_for("operator")
    response = op.post(
        "/quality/deviations/new/",
        {"title": "t", "description": "d", "classification": "minor", "link_type": "batches.batch", "link_ref": "NOPE"},
    )
    assert response.status_code == 200 and "NOPE" in response.content.decode()
    response = op.post("/quality/deviations/new/", {"title": "t", "description": "d", "classification": "minor"})
    assert response.status_code == 302


def test_close_via_page(client_for, users, password):
    dev = raise_dev(users, "minor", by="operator")
    to_capa_pending(dev, users, password)
    qa = client_for("qa")  # not the investigator (qc): a second person approves the closure
    qa.post(f"/quality/deviations/{dev.pk}/close/", {"closure_summary": "fine", "password": password})
    dev.refresh_from_db()
    assert dev.status == "closed"


def test_earlier_step_signatures_stay_valid_after_later_steps(users, password):
    from audit.signatures import signature_is_valid

    dev = raise_dev(users, "minor", by="operator")
    to_capa_pending(dev, users, password)
    services.deviation_close(user=users["qa"], deviation_id=dev.pk, closure_summary="ok", password=password)
    dev.refresh_from_db()
    assert all(signature_is_valid(s, dev) for s in signatures_for(dev))


def test_a_linked_record_type_reads_as_people_call_it_in_the_readers_language(users, client_for):
    """The deviation page printed "materials.lot" on the Chinese screens (issue 17)."""
    dev = raise_dev(users, "minor", links=[("materials.lot", 3, "L-3"), ("gone.model", 1, "X-1")])
    qa = client_for("qa")
    qa.cookies["django_language"] = "zh-hans"
    page = qa.get(reverse("quality:deviation_detail", args=[dev.pk])).content.decode()
    assert "<td>物料批</td>" in page
    assert "<td>gone.model</td>" in page  # a type no longer installed still says what it was
