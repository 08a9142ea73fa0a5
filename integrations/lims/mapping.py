"""LIMS messages <-> MES records.

Outbound: a test request (the inspection, its lot and the tests of its specification) when the quality
app announces `inspection_opened`, and the sample information (the code on each sample's label) on
`sample_taken`; `subscribers.py` puts each in the outbox in the same transaction as the record.
Inbound: results, entered through the quality app's `result_enter` as the LIMS integration account
(judged against the specification there; out of specification opens an OOS deviation as for a
person). The audit events of the entry carry the source message in their reason.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from audit.context import audit_context
from integrations.services.accounts import inbound_actor
from quality.models import Inspection, LimitKind
from quality.services.inspections import judge, result_enter

# Words a LIMS uses for a pass/fail verdict (lower case).
PASS_WORDS = {"pass", "passed", "conforms", "complies", "ok", "true", "yes"}
FAIL_WORDS = {"fail", "failed", "does not conform", "does not comply", "nok", "false", "no"}


# --- outbound ----------------------------------------------------------------------------------
def _limit(value) -> str | None:
    return None if value is None else str(value)


def test_request_payload(inspection) -> dict:
    """What the LIMS needs to plan the tests: the request id (= inspection number, which results
    quote back), the lot and the tests of the specification with their limits."""
    spec = inspection.specification
    lot = inspection.lot
    return {
        "request_id": inspection.number,
        "inspection_type": inspection.inspection_type,
        "lot": lot.code,
        "material": lot.material.code,
        "material_name": lot.material.name,
        "batch": inspection.batch.number if inspection.batch_id else "",
        "specification": {"id": spec.pk, "title": spec.title, "version": spec.version, "reference": spec.reference},
        "sampling_plan": spec.sample_size,
        "due_date": inspection.due_date.isoformat(),
        "tests": [
            {
                "test_code": str(item.pk),
                "name": item.name,
                "method": item.method,
                "kind": item.kind,
                "unit": item.unit,
                "lower_limit": _limit(item.lower_limit),
                "upper_limit": _limit(item.upper_limit),
                "acceptance": item.acceptance,
            }
            for item in spec.active_items()
        ],
    }


def sample_payload(sample) -> dict:
    """The sample information of a test request: the code on its label (which results quote back)."""
    return {
        "request_id": sample.inspection.number,
        "sample_id": sample.code,
        "quantity": str(sample.quantity),
        "unit": sample.unit,
        "container": sample.container,
        "taken_by": sample.taken_by.username,
        "taken_at": sample.taken_at.isoformat(),
    }


# --- inbound -----------------------------------------------------------------------------------
class TestResultSerializer(serializers.Serializer):
    request_id = serializers.CharField(
        max_length=100, help_text=_("The MES test request this result answers (the inspection number).")
    )
    sample_id = serializers.CharField(max_length=100, help_text=_("The MES sample code on the sample's label."))
    test_code = serializers.CharField(max_length=60, help_text=_("The test code sent in the test request."))
    value = serializers.CharField(max_length=200, help_text=_("Numeric or text result as reported."))
    conforms = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("For pass/fail and text tests: whether the result conforms (else read from the value)."),
    )
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    analyst = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    tested_at = serializers.DateTimeField()


class TestResultsSerializer(serializers.Serializer):
    results = TestResultSerializer(many=True, allow_empty=False)


def _refused(index: int, field: str, text: str) -> ValidationError:
    return ValidationError({"results": [f"{index}.{field}: {text}"]})


def _find(index: int, row: dict):
    """The inspection, test item and sample a result row names (a clear error for each unknown)."""
    try:
        inspection = Inspection.objects.select_related("specification").get(number=row["request_id"])
    except ObjectDoesNotExist:
        raise _refused(
            index, "request_id", gettext("No inspection %(n)s in the MES.") % {"n": row["request_id"]}
        ) from None
    item = None
    if row["test_code"].isdigit():
        item = inspection.specification.items.filter(pk=int(row["test_code"]), removed=False).first()
    if item is None:
        raise _refused(
            index,
            "test_code",
            gettext("Test %(t)s is not part of inspection %(n)s.") % {"t": row["test_code"], "n": inspection.number},
        )
    sample = inspection.samples.filter(code=row["sample_id"]).first()
    if sample is None:
        raise _refused(
            index,
            "sample_id",
            gettext("Sample %(s)s was not taken for inspection %(n)s.")
            % {"s": row["sample_id"], "n": inspection.number},
        )
    return inspection, item, sample


def _entry(index: int, item, row: dict) -> dict:
    """The `result_enter` arguments for the row: a number, or a pass/fail verdict with its text."""
    if item.unit and row["unit"] and row["unit"].strip() != item.unit:
        raise _refused(
            index,
            "unit",
            gettext("Reported in %(u)s; the specification uses %(s)s.") % {"u": row["unit"], "s": item.unit},
        )
    if item.kind == LimitKind.NUMERIC:
        return {"value": row["value"]}
    verdict = row["conforms"]
    word = row["value"].strip().lower()
    if verdict is None and word in PASS_WORDS | FAIL_WORDS:
        verdict = word in PASS_WORDS
    if verdict is None:
        raise _refused(index, "conforms", gettext("Say whether %(t)s conforms.") % {"t": item.name})
    return {"passed": verdict, "text": "" if word in PASS_WORDS | FAIL_WORDS else row["value"]}


def _same_result(current, fields: dict) -> bool:
    judged = judge(current.item, value=fields.get("value"), passed=fields.get("passed"), text=fields.get("text", ""))
    return all(getattr(current, name) == value for name, value in judged.items() if name != "conforms")


def _apply_row(index: int, row: dict, *, actor) -> dict:
    inspection, item, sample = _find(index, row)
    fields = _entry(index, item, row)
    current = inspection.results.filter(item=item, current=True).select_related("item").first()
    if current is not None:
        if _same_result(current, fields):  # the LIMS sent the same result again: nothing to do
            return {
                "request_id": inspection.number,
                "test_code": row["test_code"],
                "result": current.pk,
                "duplicate": True,
            }
        raise _refused(
            index,
            "value",
            gettext("%(t)s of %(n)s already has another result; a correction is made in the MES with a reason.")
            % {"t": item.name, "n": inspection.number},
        )
    try:
        result = result_enter(user=actor, inspection_id=inspection.pk, item_id=item.pk, sample_id=sample.pk, **fields)
    except ValidationError as exc:
        raise _refused(index, "value", "; ".join(exc.messages)) from None
    return {
        "request_id": inspection.number,
        "test_code": row["test_code"],
        "result": result.pk,
        "conforms": result.conforms,
    }


def handle_results(payload, *, message, actor) -> dict:
    """Enter every result of the message, all or none (the inbox runs this in one transaction)."""
    serializer = TestResultsSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    actor = inbound_actor(message)
    if actor is None:
        raise ValidationError(gettext("Results are entered by the LIMS integration account; none is active."))
    # The reason of every audit event written below (result entered, OOS deviation) names this message
    # (the record history keeps 100 characters of it).
    source = (gettext("LIMS inbox #%(pk)s: %(id)s") % {"id": message.message_id, "pk": message.pk})[:100]
    with audit_context(actor=actor, action=f"integrations.inbox.lims.{message.kind}", reason=source):
        applied = [_apply_row(i, row, actor=actor) for i, row in enumerate(serializer.validated_data["results"])]
    return {"results": applied}


INBOUND = {"test_results": handle_results}
