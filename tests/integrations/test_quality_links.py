"""LIMS and QMS wired to the quality app: test requests and deviations out through the outbox, results
and CAPA decisions in through the inbox and the quality services (replayable when refused)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from integrations.models import InboxMessage, InboxStatus, OutboxMessage
from integrations.services import outbox_drain
from quality import services as quality
from quality.models import CAPA, Inspection, Result
from quality.services.inspections import sample_take
from tests.quality.conftest import make_spec
from tests.quality.lots import location, receive

pytestmark = pytest.mark.req("INT-2", "INT-4", "QC-1")

RESULTS = "/api/v1/lims/test-results/"
DECISIONS = "/api/v1/qms/capa-decisions/"


@pytest.fixture
def material(users):
    from audit.context import audit_context
    from materials.models import Material

    with audit_context(actor=users["admin"], action="test.material"):
        return Material.objects.create(code="RM-L-001", name="LIMS API", type="raw", unit="kg", shelf_life_days=365)


@pytest.fixture
def inspection(users, password, material):
    make_spec(users, password, material)
    lot = receive(users, material, location())
    return Inspection.objects.get(lot=lot)


def _post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def _request_of(inspection) -> dict:
    return OutboxMessage.objects.get(system="lims", kind="test_request", key=inspection.number).payload


def _rows(inspection, sample_code, assay="99.5", **values):
    """One result per test of the test request, as a LIMS would answer it."""
    answers = {"Assay": assay, "Identification": "pass", "Appearance": "White powder", **values}
    return {
        "results": [
            {
                "request_id": inspection.number,
                "sample_id": sample_code,
                "test_code": test["test_code"],
                "value": answers[test["name"]],
                "conforms": True if test["name"] == "Appearance" else None,
                "unit": test["unit"],
                "tested_at": "2026-03-01T08:00:00Z",
            }
            for test in _request_of(inspection)["tests"]
        ]
    }


def _sample(users, inspection):
    return sample_take(user=users["qc"], inspection_id=inspection.pk, quantity="0.05", unit="kg")


# --- LIMS ------------------------------------------------------------------------------------------


def test_inspection_creation_sends_a_test_request_once(db, peer, inspection):
    from quality.events import inspection_opened

    message = OutboxMessage.objects.get(system="lims", kind="test_request")
    assert message.key == inspection.number and message.payload["lot"] == inspection.lot.code
    assert [t["name"] for t in message.payload["tests"]] == ["Assay", "Identification", "Appearance"]
    assert message.payload["tests"][0]["lower_limit"] == "98.0000" and message.payload["tests"][0]["unit"] == "%"
    inspection_opened.announce(inspection=inspection)  # the same event again: still one message
    assert OutboxMessage.objects.filter(system="lims").count() == 1
    outbox_drain(system="lims", budget_seconds=5)
    assert peer.state.requests[0]["path"] == "/mes/test-requests"
    body = peer.state.accepted[str(message.message_id)]
    assert body["kind"] == "test_request" and body["data"]["request_id"] == inspection.number


def test_sample_information_follows_the_test_request(db, peer, users, inspection):
    sample = _sample(users, inspection)
    message = OutboxMessage.objects.get(system="lims", kind="sample")
    assert message.key == sample.code and message.payload["request_id"] == inspection.number
    assert message.payload["quantity"] == "0.05" and message.payload["taken_by"] == "qc"
    outbox_drain(system="lims", budget_seconds=5)
    assert sorted(r["path"] for r in peer.state.requests) == ["/mes/samples", "/mes/test-requests"]


def test_no_test_request_when_the_inspection_is_not_created(db, users, material):
    receive(users, material, location())  # no specification: no inspection, nothing for the LIMS
    assert not OutboxMessage.objects.filter(system="lims").exists()


def test_lims_results_are_entered_as_the_account_with_the_message_in_the_audit(
    db, users, accounts, api_for, inspection
):
    sample = _sample(users, inspection)
    response = _post(api_for("lims"), RESULTS, _rows(inspection, sample.code), HTTP_IDEMPOTENCY_KEY="lims-r-1")
    assert response.status_code == 201, response.content
    results = Result.objects.filter(inspection=inspection, current=True)
    assert results.count() == 3 and {r.entered_by_id for r in results} == {accounts["lims"][0].user_id}
    assert {r.sample_id for r in results} == {sample.pk} and all(r.conforms for r in results)
    message = InboxMessage.objects.get(message_id="lims-r-1")
    events = AuditEvent.objects.filter(action="quality.result.enter")
    assert events.count() == 3
    assert all("lims-r-1" in e.reason and f"#{message.pk}" in e.reason for e in events)
    assert {e.username for e in events} == {"lims-link"}
    # The LIMS sends the same results again under another id: harmless.
    again = _post(api_for("lims"), RESULTS, _rows(inspection, sample.code), HTTP_IDEMPOTENCY_KEY="lims-r-2")
    assert again.status_code == 201 and all(r["duplicate"] for r in again.json()["result"]["results"])
    assert Result.objects.filter(inspection=inspection).count() == 3


def test_out_of_specification_result_opens_a_deviation_that_goes_to_the_qms(db, users, api_for, inspection):
    sample = _sample(users, inspection)
    response = _post(api_for("lims"), RESULTS, _rows(inspection, sample.code, assay="95.1"))
    assert response.status_code == 201
    oos = Result.objects.get(inspection=inspection, item__name="Assay")
    assert not oos.conforms and oos.deviation.source == "oos"
    sent = OutboxMessage.objects.get(system="qms", kind="deviation")
    assert sent.key == oos.deviation.number and sent.payload["classification"] == "major"
    assert {link["type"] for link in sent.payload["links"]} >= {"materials.lot", "quality.inspection"}


def test_invalid_value_fails_whole_message_nothing_half_applied(db, users, api_for, inspection):
    sample = _sample(users, inspection)
    response = _post(api_for("lims"), RESULTS, _rows(inspection, sample.code, assay="n/a"))
    assert response.status_code == 400
    assert "is not a number" in json.dumps(response.json()["errors"])
    assert not Result.objects.filter(inspection=inspection).exists()
    assert InboxMessage.objects.get().status == InboxStatus.FAILED


def test_unknown_inspection_or_test_is_refused_clearly(db, users, api_for, inspection):
    sample = _sample(users, inspection)
    body = _rows(inspection, sample.code)
    body["results"][0]["request_id"] = "INS-NOPE"
    response = _post(api_for("lims"), RESULTS, body)
    assert response.status_code == 400 and "No inspection INS-NOPE" in json.dumps(response.json()["errors"])
    body = _rows(inspection, sample.code)
    body["results"][1]["test_code"] = "999999"
    response = _post(api_for("lims"), RESULTS, body)
    assert response.status_code == 400 and "1.test_code" in json.dumps(response.json()["errors"])
    body = _rows(inspection, sample.code)
    body["results"][0]["unit"] = "mg"
    assert "0.unit" in json.dumps(_post(api_for("lims"), RESULTS, body).json()["errors"])
    assert not Result.objects.exists()


def test_results_for_a_sample_not_yet_recorded_fail_then_replay_after_the_fix(
    db, users, accounts, api_for, client_for, inspection
):
    code = f"{inspection.number}-S1"  # the label the lab got; the sample is not yet recorded in the MES
    response = _post(api_for("lims"), RESULTS, _rows(inspection, code), HTTP_IDEMPOTENCY_KEY="lims-early")
    assert response.status_code == 400 and "was not taken" in json.dumps(response.json()["errors"])
    message = InboxMessage.objects.get(message_id="lims-early")
    assert message.status == InboxStatus.FAILED
    assert _sample(users, inspection).code == code  # the cause fixed: QC records the sample
    page = client_for("admin").post(f"/integrations/messages/inbox/{message.pk}/replay/", {"reason": "sample logged"})
    assert page.status_code == 302
    message.refresh_from_db()
    assert message.status == InboxStatus.PROCESSED and message.attempts == 2
    results = Result.objects.filter(inspection=inspection)
    # Attributed to the LIMS account, not to the administrator who replayed; the replay is audited as theirs.
    assert results.count() == 3 and {r.entered_by_id for r in results} == {accounts["lims"][0].user_id}
    assert AuditEvent.objects.filter(action="integrations.inbox.replay", username="admin").exists()


# --- QMS -------------------------------------------------------------------------------------------


@pytest.fixture
def deviation(users):
    return quality.deviation_raise(
        user=users["operator"], title="Torn bag", description="A torn bag of excipient", classification="major"
    )


def _decision(deviation, decision, ref="QMS-CAPA-7", **extra):
    body = {
        "deviation_reference": deviation.number,
        "capa_reference": ref,
        "decision": decision,
        "decided_by": "j.doe (QMS)",
        "decided_at": "2026-03-02T10:00:00Z",
        "comment": "as agreed in the CAPA board",
    }
    if decision == "approved":
        today = timezone.localdate()
        body.update(actions=["Retrain warehouse staff", "Change supplier bags"], owner="supervisor")
        body["due_date"] = (today + dt.timedelta(days=30)).isoformat()
    return {**body, **extra}


def test_deviation_raise_reports_to_the_qms_once(db, peer, deviation):
    from quality.events import deviation_raised

    message = OutboxMessage.objects.get(system="qms", kind="deviation")
    assert message.payload["deviation_reference"] == deviation.number and message.payload["raised_by"] == "operator"
    deviation_raised.announce(deviation=deviation)  # the same event again: still one message
    assert OutboxMessage.objects.filter(system="qms").count() == 1
    outbox_drain(system="qms", budget_seconds=5)
    assert peer.state.requests[0]["path"] == "/mes/deviations" and peer.resent() == 0
    assert peer.state.accepted[str(message.message_id)]["data"]["title"] == "Torn bag"


def test_approved_plan_creates_capas_once(db, users, accounts, api_for, deviation):
    response = _post(api_for("qms"), DECISIONS, _decision(deviation, "approved"), HTTP_IDEMPOTENCY_KEY="q-1")
    assert response.status_code == 201, response.content
    capas = CAPA.objects.filter(deviation=deviation)
    assert capas.count() == 2 and {c.owner.username for c in capas} == {"supervisor"}
    assert {c.created_by_id for c in capas} == {accounts["qms"][0].user_id}
    assert all("[QMS QMS-CAPA-7]" in c.action for c in capas)
    assert AuditEvent.objects.filter(action="quality.capa.create", reason__contains="QMS-CAPA-7").count() == 2
    again = _post(api_for("qms"), DECISIONS, _decision(deviation, "approved"), HTTP_IDEMPOTENCY_KEY="q-2")
    assert again.status_code == 201 and again.json()["result"]["duplicate"] is True
    assert CAPA.objects.count() == 2


def test_approved_plan_with_unknown_owner_or_deviation_fails(db, api_for, deviation):
    response = _post(api_for("qms"), DECISIONS, _decision(deviation, "approved", owner="nobody"))
    assert response.status_code == 400 and "owner" in response.json()["errors"]
    response = _post(api_for("qms"), DECISIONS, _decision(deviation, "approved", deviation_reference="DEV-0"))
    assert response.status_code == 400 and "deviation_reference" in response.json()["errors"]
    response = _post(api_for("qms"), DECISIONS, {**_decision(deviation, "approved"), "actions": []})
    assert response.status_code == 400 and "actions" in response.json()["errors"]
    assert not CAPA.objects.exists()


def _submitted(users, password, api_for, deviation):
    _post(api_for("qms"), DECISIONS, _decision(deviation, "approved"), HTTP_IDEMPOTENCY_KEY="q-plan")
    capas = list(CAPA.objects.filter(deviation=deviation))
    for capa in capas:
        quality.capa_start(user=users["supervisor"], capa_id=capa.pk)
        quality.capa_submit(user=users["supervisor"], capa_id=capa.pk, evidence="Done, see SOP-12", password=password)
    return capas


def test_rejected_decision_reopens_the_capas_with_the_qms_reason(db, users, password, api_for, deviation):
    capas = _submitted(users, password, api_for, deviation)
    response = _post(api_for("qms"), DECISIONS, _decision(deviation, "rejected"))
    assert response.status_code == 201, response.content
    assert sorted(response.json()["result"]["reopened"]) == sorted(c.number for c in capas)
    assert set(CAPA.objects.values_list("status", flat=True)) == {"in_progress"}
    event = AuditEvent.objects.filter(action__contains="reopen").latest("seq")
    assert "QMS-CAPA-7" in event.reason and "j.doe" in event.reason and event.username == "qms-link"


def test_closed_decision_waits_for_a_signature_in_the_mes_then_replays(
    db, users, password, api_for, client_for, deviation
):
    capas = _submitted(users, password, api_for, deviation)
    response = _post(api_for("qms"), DECISIONS, _decision(deviation, "closed"), HTTP_IDEMPOTENCY_KEY="q-close")
    assert response.status_code == 202
    message = InboxMessage.objects.get(message_id="q-close")
    assert message.status == InboxStatus.PARKED and capas[0].number in message.last_error
    assert set(CAPA.objects.values_list("status", flat=True)) == {"effectiveness_check"}  # never closed unsigned
    for capa in capas:  # the QA verifier signs in the MES
        quality.capa_close(user=users["qa"], capa_id=capa.pk, effectiveness="No recurrence", password=password)
    client_for("admin").post(f"/integrations/messages/inbox/{message.pk}/replay/", {"reason": "signed by QA"})
    message.refresh_from_db()
    assert message.status == InboxStatus.PROCESSED and message.result["signed_in_mes"] is True


def test_closed_decision_before_evidence_is_refused(db, api_for, deviation):
    _post(api_for("qms"), DECISIONS, _decision(deviation, "approved"))
    response = _post(api_for("qms"), DECISIONS, _decision(deviation, "closed"))
    assert response.status_code == 400 and "not yet submitted evidence" in json.dumps(response.json()["errors"])
    assert set(CAPA.objects.values_list("status", flat=True)) == {"open"}


# --- the demo ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_shows_lims_and_qms_messages_flowing():
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - idempotent
    inbox = {m.message_id: m for m in InboxMessage.objects.filter(message_id__startswith="demo:")}
    assert inbox["demo:lims-result-1"].status == InboxStatus.PROCESSED
    assert Result.objects.filter(entered_by__username="lims-link").count() == 1
    assert inbox["demo:lims-result-early"].status == InboxStatus.FAILED
    assert inbox["demo:qms-plan-1"].status == InboxStatus.PROCESSED
    assert CAPA.objects.filter(action__contains="[QMS TW-CAPA-2026-031]", status="effectiveness_check").count() == 2
    assert inbox["demo:qms-close-1"].status == InboxStatus.PARKED
    requests = OutboxMessage.objects.filter(system="lims", kind="test_request")
    assert requests.filter(status="delivered").count() == 1 and requests.count() > 1
    assert OutboxMessage.objects.filter(system="qms", kind="deviation").exclude(key__startswith="demo:").exists()
