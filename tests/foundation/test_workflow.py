"""The one way to change state: transitions lock, check, audit and sign together."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.context import audit_context
from audit.gmp import AuditBypassError
from audit.models import AuditEvent, Signature
from audit.signatures import SignatureError, signature_is_valid, signatures_for
from mes.workflow import TransitionNotAllowed, transition_apply
from tests.sample.models import SAMPLE_MACHINE, Sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(users):
    from django.contrib.auth.models import Permission

    user = users["planner"]
    user.user_permissions.add(Permission.objects.get(codename="change_sample"))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def sample(author):
    with audit_context(actor=author, action="sample.create"):
        return Sample.objects.create(title="S-1", quantity=Decimal("5.000"), author=author)


def apply(sample, name, user, **kw):
    return transition_apply(model=Sample, pk=sample.pk, machine=SAMPLE_MACHINE, name=name, user=user, **kw)


@pytest.mark.req("SEC-4", "AUD-1")
def test_legal_transition_writes_one_audit_event_with_old_and_new_state(sample, author):
    before = AuditEvent.objects.count()
    apply(sample, "submit", author)
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert [e.action for e in events] == ["sample.sample.submit"]
    assert events[0].old == {"status": "draft"} and events[0].new == {"status": "submitted"}
    assert events[0].username == "planner"


@pytest.mark.req("SEC-3")
def test_signed_transition_needs_the_right_password_and_binds_the_content(sample, author, password):
    apply(sample, "submit", author)
    with pytest.raises(SignatureError):
        apply(sample, "approve", author, password="wrong-password-123")
    sample.refresh_from_db()
    assert sample.status == "submitted"
    assert not Signature.objects.exists()
    assert AuditEvent.objects.filter(action="signature.failed", username="planner").count() == 1

    apply(sample, "approve", author, password=password, reason="checked")
    sample.refresh_from_db()
    (sig,) = signatures_for(sample)
    assert sig.meaning == "approved" and sig.printed_name == "Fang Wang" and sig.reason == "checked"
    assert signature_is_valid(sig, sample)


@pytest.mark.req("SEC-3")
def test_signature_becomes_invalid_when_signed_content_changes(sample, author, password):
    apply(sample, "submit", author)
    apply(sample, "approve", author, password=password)
    sample.refresh_from_db()
    sample.quantity = Decimal("6.000")
    with audit_context(actor=author, reason="typo"):
        sample.save()
    (sig,) = signatures_for(sample)
    assert not signature_is_valid(sig, sample)


def test_illegal_transition_raises_and_writes_nothing(sample, author):
    before = AuditEvent.objects.count()
    with pytest.raises(TransitionNotAllowed):
        apply(sample, "approve", author, password="x")
    assert AuditEvent.objects.count() == before


def test_transition_without_permission_is_refused(sample, users):
    with pytest.raises(PermissionDenied):
        apply(sample, "submit", users["operator"])
    sample.refresh_from_db()
    assert sample.status == "draft"


def test_reason_required(sample, author, password):
    with pytest.raises(ValidationError):
        apply(sample, "cancel", author, password=password, reason="  ")


def test_status_cannot_be_edited_directly(sample):
    sample.status = "approved"
    with pytest.raises(ValidationError):
        sample.save()


def test_available_transitions_follow_state_and_permission(sample, author, users):
    assert [t.name for t in SAMPLE_MACHINE.available(sample, author)] == ["submit", "cancel"]
    assert SAMPLE_MACHINE.available(sample, users["operator"]) == []


@pytest.mark.req("SEC-4", "BAT-5")
def test_every_write_path_of_a_gmp_model_is_audited_or_refused(sample, author):
    from django.apps import apps

    from audit.gmp import GMPModel

    gmp_models = [m for m in apps.get_models() if issubclass(m, GMPModel)]
    assert Sample in gmp_models and len(gmp_models) >= 5
    for model in gmp_models:
        assert hasattr(model, "history"), f"{model} has no simple-history"
        qs = model.objects.all()
        for path in (
            lambda: qs.update(),
            lambda: qs.delete(),
            lambda: qs.bulk_create([]),
            lambda: qs.bulk_update([], []),
            lambda: qs.update_or_create(),
        ):
            with pytest.raises(AuditBypassError):
                path()
    with pytest.raises(AuditBypassError):
        sample.delete()
    # a plain save leaves both the audit event and a history row, with the reason
    sample.title = "S-1b"
    with audit_context(actor=author, reason="renamed for test"):
        sample.save()
    event = AuditEvent.objects.filter(object_type="sample.sample", object_id=str(sample.pk)).order_by("-seq").first()
    assert event.old == {"title": "S-1"} and event.new == {"title": "S-1b"} and event.reason == "renamed for test"
    assert sample.history.first().history_change_reason == "renamed for test"
