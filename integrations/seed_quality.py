"""Demo of the LIMS and QMS links, through the real inbox and quality services (idempotent):

- the test requests and deviations the quality demo created are already in the outbox (their
  services enqueue them); the first test request is shown as delivered, as if the LIMS took it;
- the LIMS logs a sample in and sends a conforming result: entered as lims-link;
- the LIMS sends results for a sample not yet recorded in the MES: failed, to replay once QC records it;
- the QMS approves a CAPA plan for an open deviation (two CAPAs created as qms-link), the owner submits
  evidence, and the QMS's "closed" decision waits (parked) for the QA verifier's signature in the MES.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from integrations.models import InboxMessage, IntegrationAccount, OutboxMessage, OutboxStatus
from integrations.services import inbox_accept
from mes.demo_accounts import DEMO_PASSWORD
from mes.seed import demo_user
from quality.models import CAPA, CAPAStatus, Deviation, DeviationStatus, Inspection, InspectionStatus, LimitKind
from quality.services import capa_start, capa_submit
from quality.services.inspections import sample_take


def _account_user(system: str):
    account = IntegrationAccount.objects.select_related("user").filter(system=system, active=True).first()
    return account.user if account else None


def seed_quality_links() -> None:
    lims, qms = _account_user("lims"), _account_user("qms")
    seeded = set(InboxMessage.objects.filter(message_id__startswith="demo:").values_list("message_id", flat=True))
    if lims is not None and "demo:lims-result-1" not in seeded:
        _lims(lims)
    if qms is not None and "demo:qms-plan-1" not in seeded:
        _qms(qms)


def _mark_first_request_delivered() -> None:
    message = OutboxMessage.objects.filter(system="lims", kind="test_request").order_by("id").first()
    if message is not None and message.status == OutboxStatus.PENDING:
        # Plain (non-GMP) delivery bookkeeping, as the outbox worker records it.
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.DELIVERED, attempts=1, delivered_at=timezone.now(), last_status_code=200
        )


def _open_inspection():
    for inspection in Inspection.objects.filter(status=InspectionStatus.DUE).order_by("id"):
        items = inspection.specification.active_items()
        if any(i.kind == LimitKind.NUMERIC and i.lower_limit is not None for i in items):
            return inspection
    return None


def _row(inspection, sample_code: str, item, value: str) -> dict:
    return {
        "request_id": inspection.number,
        "sample_id": sample_code,
        "test_code": str(item.pk),
        "value": value,
        "unit": item.unit,
        "analyst": "LIMS demo analyst",
        "tested_at": "2026-01-15T09:30:00Z",
    }


def _lims(lims) -> None:
    _mark_first_request_delivered()
    inspection = _open_inspection()
    if inspection is None:
        return
    item = next(i for i in inspection.specification.active_items() if i.kind == LimitKind.NUMERIC)
    middle = (item.lower_limit + (item.upper_limit or item.lower_limit)) / 2
    sample = inspection.samples.first() or sample_take(user=lims, inspection_id=inspection.pk, quantity="20", unit="g")
    inbox_accept(
        system="lims",
        kind="test_results",
        message_id="demo:lims-result-1",
        payload={"results": [_row(inspection, sample.code, item, f"{middle.normalize():f}")]},
        actor=lims,
    )
    # A sample label the MES does not know yet: failed, replayable once QC records the sample.
    inbox_accept(
        system="lims",
        kind="test_results",
        message_id="demo:lims-result-early",
        payload={"results": [_row(inspection, f"{inspection.number}-S9", item, f"{middle.normalize():f}")]},
        actor=lims,
    )


def _decision(deviation, decision: str, **extra) -> dict:
    return {
        "deviation_reference": deviation.number,
        "capa_reference": "TW-CAPA-2026-031",
        "decision": decision,
        "decided_by": "CAPA review board (TrackWise)",
        "decided_at": "2026-01-20T14:00:00Z",
        **extra,
    }


def _qms(qms) -> None:
    deviation = Deviation.objects.filter(status=DeviationStatus.OPEN).order_by("id").first()
    owner = demo_user("supervisor")
    if deviation is None or owner is None:
        return
    plan = inbox_accept(
        system="qms",
        kind="capa_decision",
        message_id="demo:qms-plan-1",
        payload=_decision(
            deviation,
            "approved",
            actions=["Add a second check of the label printout", "Retrain the packaging team"],
            owner=owner.username,
            due_date=(timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        ),
        actor=qms,
    )
    for capa in CAPA.objects.filter(number__in=(plan.result or {}).get("capas", [])):
        if capa.status == CAPAStatus.OPEN:
            capa_start(user=owner, capa_id=capa.pk)
            capa_submit(user=owner, capa_id=capa.pk, evidence="Training record TR-2026-140.", password=DEMO_PASSWORD)
    inbox_accept(
        system="qms",
        kind="capa_decision",
        message_id="demo:qms-close-1",
        payload=_decision(deviation, "closed"),
        actor=qms,
    )
