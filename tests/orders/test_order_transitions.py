"""Every order transition: a legal one writes its audit event (and signature); an illegal one writes nothing."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent, Signature
from mes.seed import DEMO_PASSWORD as PW
from mes.workflow import TransitionNotAllowed
from orders import services as s
from orders.models import ORDER_MACHINE, OrderApproval, ProductionOrder
from tests.orders.conftest import advance

pytestmark = pytest.mark.django_db

# action: (state it leaves from, who takes it, extra keyword arguments)
CALLS = {
    "submit": ("draft", "planner", {"password": PW}),
    "return": ("submitted", "supervisor", {"password": PW, "reason": "Move the start by a day"}),
    "rework": ("returned", "planner", {}),
    "approve": ("submitted", "supervisor", {"password": PW}),
    "release": ("approved", "supervisor", {"password": PW}),
    "start": ("released", "supervisor", {}),
    "complete": ("in_progress", "supervisor", {"password": PW}),
    "close": ("completed", "supervisor", {"password": PW}),
    "cancel": ("approved", "supervisor", {"password": PW, "reason": "Plan withdrawn by ERP"}),
}
ALL_STATES = [
    "draft",
    "submitted",
    "returned",
    "approved",
    "released",
    "in_progress",
    "completed",
    "closed",
    "cancelled",
]


def order_in(state: str, draft_order, users) -> ProductionOrder:
    if state in ("draft",):
        return draft_order
    if state == "returned":
        advance(draft_order, "submitted", users)
        s.order_return(user=users["supervisor"], order_id=draft_order.pk, password=PW, reason="no")
    elif state == "cancelled":
        s.order_cancel(user=users["planner"], order_id=draft_order.pk, password=PW, reason="not needed")
    else:
        advance(draft_order, state, users)
    draft_order.refresh_from_db()
    return draft_order


def test_every_transition_of_the_machine_is_tested():
    assert set(CALLS) | {"amend"} == set(ORDER_MACHINE.by_name)


@pytest.mark.req("ORD-2", "SEC-3", "AUD-1")
@pytest.mark.parametrize("name", sorted(CALLS))
def test_legal_transition_writes_audit_event_and_signature(name, draft_order, users):
    source, who, kwargs = CALLS[name]
    order = order_in(source, draft_order, users)
    transition = ORDER_MACHINE.get(name)
    events_before, sigs_before = AuditEvent.objects.count(), Signature.objects.count()

    s.ORDER_ACTIONS[name](user=users[who], order_id=order.pk, **kwargs)

    order.refresh_from_db()
    assert order.status == transition.target
    event = AuditEvent.objects.filter(
        action=f"orders.productionorder.{name}", object_type="orders.productionorder", object_id=str(order.pk)
    ).latest("seq")
    assert event.old["status"] == source and event.new["status"] == transition.target
    assert event.username == users[who].username
    new_sigs = Signature.objects.filter(object_type="orders.productionorder", object_id=str(order.pk))[sigs_before:]
    if transition.signature:
        sig = Signature.objects.filter(object_type="orders.productionorder", object_id=str(order.pk)).latest("pk")
        assert sig.meaning == transition.signature and sig.username == users[who].username
        assert Signature.objects.count() == sigs_before + 1
    else:
        assert Signature.objects.count() == sigs_before
        assert not list(new_sigs)
    assert AuditEvent.objects.count() > events_before


@pytest.mark.req("ORD-2")
@pytest.mark.parametrize("name", sorted(CALLS))
def test_illegal_transition_raises_and_writes_nothing(name, draft_order, users):
    _source, who, kwargs = CALLS[name]
    transition = ORDER_MACHINE.get(name)
    wrong = next(state for state in ALL_STATES if state not in transition.source)
    order = order_in(wrong, draft_order, users)
    events, sigs, approvals = AuditEvent.objects.count(), Signature.objects.count(), OrderApproval.objects.count()

    with pytest.raises(TransitionNotAllowed):
        s.ORDER_ACTIONS[name](user=users[who], order_id=order.pk, **kwargs)

    order.refresh_from_db()
    assert order.status == wrong
    assert (AuditEvent.objects.count(), Signature.objects.count(), OrderApproval.objects.count()) == (
        events,
        sigs,
        approvals,
    )


@pytest.mark.req("SEC-3")
def test_wrong_password_changes_nothing_but_is_audited(draft_order, users):
    from audit.signatures import SignatureError

    with pytest.raises(SignatureError):
        s.order_submit(user=users["planner"], order_id=draft_order.pk, password="not-my-password-1")
    draft_order.refresh_from_db()
    assert draft_order.status == "draft"
    assert AuditEvent.objects.filter(action="signature.failed", username="planner").count() == 1
    assert not Signature.objects.filter(object_type="orders.productionorder").exists()


@pytest.mark.req("SEC-2")
def test_a_role_without_the_permission_cannot_take_the_action(draft_order, users):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        s.order_submit(user=users["operator"], order_id=draft_order.pk, password=PW)
    advance(draft_order, "submitted", users)
    with pytest.raises(PermissionDenied):
        s.order_approve(user=users["qc"], order_id=draft_order.pk, password=PW)
