"""Domain events (mes.events, issue 22): announced inside the change's transaction, every subscriber
called there and then, its failure the change's failure; each partner system subscribes from its own
package under integrations/, so no domain app names a partner."""

from __future__ import annotations

import pytest
from django.db import transaction

from integrations.apps import subscribe_partners
from integrations.models import OutboxMessage
from mes.events import EVENTS, DomainEvent
from quality import services as quality
from quality.events import deviation_raised
from quality.models import Deviation

DOMAIN_EVENTS = {
    "order_released",
    "order_completed",
    "batch_closed",
    "lot_status_changed",
    "material_consumed",
    "inspection_opened",
    "sample_taken",
    "deviation_raised",
    "batch_released",
    "lot_created",
    "fault_reported",
}


@pytest.fixture
def probe():
    event = DomainEvent("test_probe", "A test's event.", fields=("thing",))
    yield event
    del EVENTS["test_probe"]


def test_an_announcement_outside_a_transaction_is_refused(probe):
    heard = []
    probe.subscribe(lambda **kw: heard.append(kw))
    with pytest.raises(RuntimeError, match="inside the transaction"):
        probe.announce(thing=1)
    assert heard == []


def test_an_announcement_with_other_fields_is_refused(probe):
    with pytest.raises(TypeError, match="thing"):
        probe.announce(other=1)


@pytest.mark.django_db
def test_an_event_is_declared_once_and_a_subscriber_heard_once(probe):
    with pytest.raises(ValueError, match="declared twice"):
        DomainEvent("test_probe", "again", fields=("thing",))
    heard = []

    def subscriber(**kw):
        heard.append(kw)

    probe.subscribe(subscriber)
    probe.subscribe(subscriber)
    with transaction.atomic():
        probe.announce(thing=7)
    assert heard == [{"thing": 7}]


def test_every_partner_package_subscribes_and_every_domain_event_is_heard():
    assert subscribe_partners() == [
        "integrations.erp.subscribers",
        "integrations.lims.subscribers",
        "integrations.qms.subscribers",
        "integrations.wms.subscribers",
    ]
    assert DOMAIN_EVENTS <= set(EVENTS)
    # the domain's own reactions: quality inspects a new lot and opens a deviation for a fault in a batch
    assert [s.__name__ for s in EVENTS["lot_created"].subscribers] == ["inspect_new_lot"]
    assert [s.__name__ for s in EVENTS["fault_reported"].subscribers] == ["deviation_for_fault_during_a_batch"]
    deaf = [name for name in DOMAIN_EVENTS if not EVENTS[name].subscribers]
    assert deaf == []
    # a repeated discovery (ready() twice) must not subscribe twice: one outbox row per announcement
    assert [s.__name__ for s in deviation_raised.subscribers] == ["deviation_raised_to_qms"]


@pytest.mark.django_db
@pytest.mark.req("INT-2")
def test_a_failing_subscriber_rolls_the_change_back_with_its_outbox_row(users):
    """The QMS's row is written by a subscriber in the deviation's transaction; when a later
    subscriber fails, neither the deviation nor the QMS message exists afterwards."""

    def broken(**kw):
        assert OutboxMessage.objects.filter(system="qms", kind="deviation").exists()  # written, not committed
        raise ConnectionError("a partner mapping failed")

    before = Deviation.objects.count()
    deviation_raised.subscribe(broken)
    try:
        with pytest.raises(ConnectionError):
            quality.deviation_raise(
                user=users["operator"], title="Torn bag", description="A torn bag", classification="major"
            )
    finally:
        deviation_raised.unsubscribe(broken)
    assert Deviation.objects.count() == before
    assert not OutboxMessage.objects.filter(system="qms").exists()
    quality.deviation_raise(user=users["operator"], title="Torn bag", description="A torn bag", classification="major")
    assert OutboxMessage.objects.filter(system="qms", kind="deviation").count() == 1


def test_quality_vetoes_a_lot_release_and_without_it_no_lot_is_released(monkeypatch):
    """MAT-3 through a registry instead of an import of quality: the check is quality's, and with no
    check registered the materials app refuses to release rather than release unchecked."""
    from django.core.exceptions import ImproperlyConfigured

    from materials import events as material_events
    from quality.services.inspections import lot_release_problems

    assert material_events._RELEASE_CHECKS == [lot_release_problems]
    monkeypatch.setattr(material_events, "_RELEASE_CHECKS", [])
    with pytest.raises(ImproperlyConfigured):
        material_events.lot_release_vetoes(object())
