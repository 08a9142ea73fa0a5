"""A deviation the system opens is titled in English in the record and read in the reader's language,
whichever language the operator whose value opened it was using."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from audit.context import audit_context
from batches.models import Entry
from batches.services.execution import OUT_OF_RANGE_DESCRIPTION
from batches.services.hooks import OUT_OF_RANGE, OUT_OF_RANGE_AFTER_CORRECTION
from mes.changecontrol import controlled_writes
from mes.generated import GeneratedText, localized
from orders.models import ProcessParameter
from quality.models import Deviation


@pytest.mark.django_db  # a value's name is looked up in the recipes: none names it here, so it reads as stored
def test_a_declared_sentence_is_recognised_and_translated_with_its_values():
    sentence = GeneratedText("Weighed %(q)s %(u)s of %(m)s, expected %(q)s %(u)s")  # a field used twice
    stored = sentence(q="12.5", u="kg", m="RM-API")
    assert stored == "Weighed 12.5 kg of RM-API, expected 12.5 kg"
    assert localized(stored) == stored  # no translation of this test sentence: unchanged, never broken
    assert localized("typed by a person") == "typed by a person"
    stored = OUT_OF_RANGE(n="Impeller speed", s=10)
    assert stored == "Out of range: Impeller speed in step 10"
    with translation.override("zh-hans"):
        assert localized(stored) == "超限：工序 10 的 Impeller speed"


@pytest.mark.req("BAT-9")
def test_deviation_opened_from_a_chinese_screen_is_stored_in_english_and_read_in_each_language(
    running, client, users, client_for
):
    batch = running["batch"]
    client.force_login(users["operator"])
    client.cookies["django_language"] = "zh-hans"
    url = reverse("batches:step", kwargs={"number": batch.number, "step": 10})
    client.post(url, {"op": "start", "scan": "GRAN-01", "how": "scanned"})
    entry = Entry.objects.get(batch=batch, name="Impeller speed")
    client.post(url, {"op": "record", "entry": entry.pk, "version": 0, "value": "175", "comment": "电机喘振"})
    entry.refresh_from_db()
    deviation = Deviation.objects.get(number=entry.deviation_ref)
    assert deviation.title == "Out of range: Impeller speed in step 10"
    qa = client_for("qa")
    qa.cookies["django_language"] = "en"
    detail = reverse("quality:deviation_detail", kwargs={"pk": deviation.pk})
    assert "Out of range: Impeller speed in step 10" in qa.get(detail).content.decode()
    qa.cookies["django_language"] = "zh-hans"  # this recipe gives the parameter no Chinese name
    assert "超限：工序 10 的 Impeller speed" in qa.get(detail).content.decode()
    assert "超限：工序 10 的 Impeller speed" in qa.get(reverse("quality:deviation_list")).content.decode()


def test_an_equipment_fault_deviation_raised_from_a_chinese_screen_reads_in_each_language(running, users, client_for):
    """The title, and the description holding the fault's own generated text, are stored in English;
    the deviation page and the batch record's exceptions show them in the reader's language."""
    from batches import services as s
    from equipment.services.maintenance import fault_report
    from equipment.services.monitoring import ALARM_RAISED
    from tests.batches.conftest import fresh

    batch = running["batch"]
    op = fresh(users["operator"])
    s.step_start(user=op, step=batch.steps.get(number=10), scan="GRAN-01")
    with translation.override("zh-hans"):
        fault = fault_report(
            equipment=running["equipment"]["GRAN"],
            user=op,
            description=ALARM_RAISED(code="E7", when="2026-12-04 09:30:00"),
        )
    deviation = Deviation.objects.get(title="Equipment fault during batch: GRAN-01")
    assert deviation.description == f"Fault {fault.number}: Machine alarm E7 raised at 2026-12-04 09:30:00."
    qa = client_for("qa")
    detail = reverse("quality:deviation_detail", kwargs={"pk": deviation.pk})
    qa.cookies["django_language"] = "zh-hans"
    page = qa.get(detail).content.decode()
    assert "生产过程中设备故障：GRAN-01" in page
    assert f"故障 {fault.number}：设备报警 E7 于 2026-12-04 09:30:00 触发。" in page
    qa.cookies["django_language"] = "en"
    page = qa.get(detail).content.decode()
    assert f"Fault {fault.number}: Machine alarm E7 raised at 2026-12-04 09:30:00." in page
    with translation.override("zh-hans"):
        details = " ".join(x.detail for x in s.batch_exceptions(batch) if x.kind == "deviation")
    assert "生产过程中设备故障：GRAN-01" in details


def test_an_out_of_range_count_in_pieces_reads_in_the_readers_language():
    stored = OUT_OF_RANGE_DESCRIPTION(v="27", u="pcs", l="28 – 30", c="two blisters short")
    assert stored == "27 pcs recorded, limits 28 – 30. Comment: two blisters short"
    with translation.override("zh-hans"):
        shown = localized(stored)
    assert "27 件" in shown and "pcs" not in shown and "recorded" not in shown


def test_an_out_of_range_title_names_the_value_by_the_recipes_chinese_name(running):
    """Issue 17: "超限：工序 10 的 Impeller speed" read half English where the recipe names the parameter in
    Chinese too."""
    parameter = ProcessParameter.objects.get(name="Impeller speed")
    parameter.name_zh = "搅拌桨转速"
    with controlled_writes("test: the recipe names the parameter in Chinese"), audit_context(action="test.setup"):
        parameter.save()
    stored = OUT_OF_RANGE(n="Impeller speed", s=10)
    with translation.override("zh-hans"):
        assert localized(stored) == "超限：工序 10 的 搅拌桨转速"
        assert localized(OUT_OF_RANGE_AFTER_CORRECTION(n="Impeller speed")).endswith("搅拌桨转速")
    with translation.override("en"):
        assert localized(stored) == stored
