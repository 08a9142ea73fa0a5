"""OEE on a hand-computed example (availability x performance x quality)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.context import audit_context
from equipment.models import EquipmentTag, LogbookEntry, TagReading
from equipment.services.oee import oee_for_equipment, oee_for_line

pytestmark = [pytest.mark.django_db, pytest.mark.req("EQP-2")]

DAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def at(hhmm: str) -> dt.datetime:
    h, m = hhmm.split(":")
    return DAY + dt.timedelta(hours=int(h), minutes=int(m))


def status(eq, when, frm, to):
    with audit_context(action="test.logbook"):
        LogbookEntry.objects.create(equipment=eq, at=at(when), kind="status", text="t", from_status=frm, to_status=to)


def series(eq, key, kind, points):
    tag = EquipmentTag.objects.create(equipment=eq, key=key, node_id=f"ns=2;s={eq.code}.{key}", kind=kind)
    for when, value in points:
        TagReading.objects.create(tag=tag, value=value, source_ts=at(when), server_ts=at(when), received_at=at(when))


@pytest.fixture
def press(make_equipment):
    eq = make_equipment("TPRS-01", cls="TPRS", ideal_rate_per_min=Decimal("100"))
    # in use 08:30-15:30 (planned 420 min)
    status(eq, "08:30", "available", "in_use")
    status(eq, "15:30", "in_use", "dirty")
    # running 08:40-11:00 and 11:30-15:20 (370 min), a fault 11:00-11:30
    series(eq, "state", "state", [("07:50", 0), ("08:40", 1), ("11:00", 2), ("11:30", 1), ("15:20", 0)])
    # good: 1000 before; +14000; counter reset at 12:00 (to 500); then up to 18760 -> 14000+500+18260 = 32760
    series(eq, "good_count", "good_count", [("07:50", 1000), ("10:00", 15000), ("12:00", 500), ("15:30", 18760)])
    series(eq, "reject_count", "reject_count", [("07:50", 10), ("15:30", 750)])  # 740 rejects
    return eq


def test_oee_of_one_equipment_matches_the_hand_calculation(press):
    (item,) = oee_for_equipment([press], at("08:00"), at("16:00")).values()
    assert item.planned_s == 420 * 60
    assert item.run_s == 370 * 60
    assert item.total == 33500 and item.good == 32760
    assert item.availability == pytest.approx(370 / 420)  # 0.8810
    assert item.performance == pytest.approx(33500 / 37000)  # 0.9054
    assert item.quality == pytest.approx(32760 / 33500)  # 0.9779
    assert item.oee == pytest.approx(0.78)  # = 32760 good / (420 min x 100 per min)


def test_line_oee_adds_up_its_equipment(press, make_equipment):
    other = make_equipment("TPRS-02", cls="TPRS", ideal_rate_per_min=Decimal("50"))
    status(other, "09:00", "available", "in_use")
    status(other, "10:00", "in_use", "dirty")
    series(other, "state", "state", [("08:59", 1)])
    series(other, "good_count", "good_count", [("08:00", 0), ("10:00", 2700)])
    series(other, "reject_count", "reject_count", [("08:00", 0), ("10:00", 300)])
    line, per = oee_for_line([press, other], at("08:00"), at("16:00"), "L1")
    assert per[other.pk].oee == pytest.approx(0.9)
    assert line.availability == pytest.approx(430 / 480)
    assert line.oee == pytest.approx(430 * 35460 / (480 * 40000))  # 0.7942


def test_no_use_in_the_period_gives_no_figure(make_equipment):
    eq = make_equipment("TPRS-03", cls="TPRS")
    (item,) = oee_for_equipment([eq], timezone.now() - dt.timedelta(hours=1), timezone.now()).values()
    assert item.planned_s == 0 and item.oee is None


def test_a_line_with_equipment_without_an_ideal_rate_still_has_a_performance(press, make_equipment):
    """A balance or a dispensing booth has no ideal rate: the line's performance is that of the machines
    that have one, not "—" for the whole line (as the demo plant showed on every line)."""
    balance = make_equipment("BAL-01", cls="TPRS", ideal_rate_per_min=None)
    status(balance, "08:00", "available", "in_use")
    status(balance, "09:00", "in_use", "available")
    series(balance, "state", "state", [("07:59", 1)])
    series(balance, "good_count", "good_count", [("08:00", 0), ("09:00", 40)])
    line, per = oee_for_line([press, balance], at("08:00"), at("16:00"), "L1")
    assert per[balance.pk].performance is None
    assert line.performance == pytest.approx(33500 / 37000)  # the press alone: the balance's 40 weighings left out
    assert line.oee is not None
