"""The performer's signature on a step binds what was performed. A second person's verification (and a
refused attempt by the performer to verify their own step) writes on the step, but is not what the
performer signed: the signature stays valid. A change to the executed step after signing invalidates
both signatures. Signatures made while the verification's fields were signed content stay valid."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from audit.canonical import canonical_json, sha256_hex
from audit.context import audit_context
from audit.signatures import signature_is_valid, signatures_for
from batches import services as s
from batches.models import VERIFICATION_FIELDS, StepExecution
from mes.templatetags import mes_tags
from tests.batches.conftest import PW, fresh, issue_all


def _verified_step(running, users) -> StepExecution:
    """Step 10 performed and signed by operator, refused to operator, verified by operator2."""
    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    op = fresh(users["operator"])
    step = s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    for entry in step.entries.all():
        s.entry_record(user=op, entry=entry, value=entry.expected_answer or "150", version=entry.version)
    s.step_sign(user=op, step=step, password=PW)
    with pytest.raises(ValidationError):
        s.step_verify(user=op, step=step, verifier_username="operator", password=PW)
    s.step_verify(user=fresh(users["operator2"]), step=step, verifier_username="operator2", password=PW)
    return StepExecution.objects.get(pk=step.pk)


@pytest.mark.req("BAT-10")
def test_a_verification_leaves_the_performers_signature_valid(running, users):
    step = _verified_step(running, users)
    assert step.same_person_refusals == 1 and step.verified_by_id == users["operator2"].pk
    signatures = {sig.meaning: sig for sig in signatures_for(step)}
    assert set(signatures) == {"performed", "verified"}
    assert {m: signature_is_valid(sig, step) for m, sig in signatures.items()} == {"performed": True, "verified": True}
    shown = mes_tags.signatures_of(step)["signatures"]  # what the step screen and the review show
    assert [row["valid"] for row in shown] == [True, True]


@pytest.mark.req("BAT-10")
def test_a_change_to_the_executed_step_after_signing_invalidates_both_signatures(running, users):
    step = _verified_step(running, users)
    step.material_exception = "added after the signatures"
    with audit_context(actor=users["admin"], reason="tamper test"):
        step.save()
    step = StepExecution.objects.get(pk=step.pk)
    assert not any(signature_is_valid(sig, step) for sig in signatures_for(step))
    assert [row["valid"] for row in mes_tags.signatures_of(step)["signatures"]] == [False, False]


def test_a_changed_verification_invalidates_the_verifiers_signature_alone(running, users):
    """Who verified is what the verifier signed, not what the performer signed."""
    step = _verified_step(running, users)
    step.verified_by = users["supervisor"]
    with audit_context(actor=users["admin"], reason="tamper test"):
        step.save()
    step = StepExecution.objects.get(pk=step.pk)
    valid = {sig.meaning: signature_is_valid(sig, step) for sig in signatures_for(step)}
    assert valid == {"performed": True, "verified": False}


def test_signatures_made_while_the_performer_signed_the_whole_step_stay_valid(running, users):
    """Before, the performer's signature bound the whole step as at sign-off (done, nobody verifying).
    Such a hash is still accepted for the performer, never for the verifier; a hash of other content is
    not accepted. (A signature row cannot be rewritten, so the hashes are checked against what validity
    accepts.)"""
    step = _verified_step(running, users)
    step.same_person_refusals = 0  # as it stood at sign-off, for this check of the earlier hash
    whole = step.signature_content()
    at_sign_off = {**whole, "status": "done", "verified_by": None, "verified_at": None}
    performed, verified = step.signed_content_hashes("performed"), step.signed_content_hashes("verified")
    assert sha256_hex(canonical_json(at_sign_off)) in performed - verified
    assert sha256_hex(canonical_json(whole)) in verified - performed
    assert sha256_hex(canonical_json({**at_sign_off, "equipment": None})) not in performed
    assert not set(VERIFICATION_FIELDS) - set(whole)  # the verifier's signature binds the verification
