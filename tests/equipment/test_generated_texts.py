"""Texts the system writes into the equipment logbook are stored in English and read in each reader's
language, whatever language the screen that caused them was in (issue 17, Language)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from equipment.models import FaultSource, LogbookEntry
from equipment.services.maintenance import fault_report
from equipment.services.monitoring import ALARM_RAISED
from mes.generated import localized


def test_a_fault_reported_from_a_chinese_screen_is_logged_in_english_and_read_in_each_language(
    equipment, users, client_for
):
    with translation.override("zh-hans"):  # the request that reports it is Chinese
        fault = fault_report(
            equipment=equipment,
            user=users["operator"],
            source=FaultSource.ALARM,
            description=ALARM_RAISED(code="E12", when="2026-12-04 10:00:00"),
        )
    entry = LogbookEntry.objects.filter(equipment=equipment).latest("pk")
    english = (
        f"Fault {fault.number} reported (Equipment alarm (OPC UA)): Machine alarm E12 raised at 2026-12-04 10:00:00."
    )
    assert entry.text == english  # stored once, in English: never the writer's language
    chinese = f"已报告故障 {fault.number}（设备报警（OPC UA））：设备报警 E12 于 2026-12-04 10:00:00 触发。"
    with translation.override("zh-hans"):
        assert localized(entry.text) == chinese  # the sentence, the word and the nested sentence translated
    page = client_for("supervisor")
    url = reverse("equipment:detail", kwargs={"pk": equipment.pk})
    page.cookies["django_language"] = "zh-hans"
    assert chinese in page.get(url).content.decode()
    page.cookies["django_language"] = "en"
    assert english in page.get(url).content.decode()


def test_an_english_logbook_line_stored_before_the_change_reads_chinese_to_a_chinese_reader(equipment, users):
    """Rows written by earlier versions hold the same English sentences: they are translated too."""
    stored = "Fault F-00007 dismissed."
    with translation.override("zh-hans"):
        assert localized(stored) == "故障 F-00007 已撤销。"
    assert localized(stored) == stored


def test_a_logbook_line_kind_is_not_read_as_the_machine_state():
    """清洁中 ("being cleaned") is a state; a cleaning line in an available machine's logbook is 清洁."""
    from equipment.models import EquipmentStatus, LogbookKind

    with translation.override("zh-hans"):
        assert str(LogbookKind.CLEANING.label) == "清洁"
        assert str(LogbookKind.MAINTENANCE.label) == "维修"
        assert str(EquipmentStatus.CLEANING.label) == "清洁中"
    assert str(LogbookKind.CLEANING.label) == "Cleaning"
