"""The last English on the Chinese screens (issue 17): units and the OOS deviation of a failing result.

A record stores its generated sentence in English with unit codes ("7 pcs"); a reader of Chinese reads it
wholly in Chinese (the test by its Chinese name, 件 for pieces), a reader of English wholly in English."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from materials.services.balance import CONSUMPTION_OUTSIDE_TOLERANCE
from materials.services.common import fmt_stored
from mes.generated import localized
from quality import services
from quality.services import inspections as svc
from tests.quality.lots import location, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def pieces_inspection(users, password, product):
    """A finished-goods lot counted in pieces, with a specification whose count test has a Chinese name."""
    spec = services.spec_create(user=users["qc"], material=product, inspection_type="finished", title="FG spec")
    services.spec_item_save(
        user=users["qc"], spec_id=spec.pk, sequence=10, name="Tablet count", name_zh="片数", kind="numeric",
        unit="pcs", lower_limit=Decimal("28"), upper_limit=Decimal("30"),
    )  # fmt: skip
    services.spec_item_save(
        user=users["qc"], spec_id=spec.pk, sequence=20, name="Identification", name_zh="鉴别", kind="pass_fail"
    )
    services.spec_submit(user=users["qc"], spec_id=spec.pk, password=password)
    services.spec_approve(user=users["qa"], spec_id=spec.pk, password=password)
    lot = receive(users, product, location(), quantity="6000")
    return svc.inspection_create(user=users["qc"], lot=lot, inspection_type="finished")


def _item(inspection, name):
    return next(i for i in inspection.specification.active_items() if i.name == name)


def _deviation_page(client_for, deviation, language):
    qa = client_for("qa")
    qa.cookies["django_language"] = language
    return qa.get(reverse("quality:deviation_detail", args=[deviation.pk])).content.decode()


def _heading_and_description(page):
    heading = re.search(r"<h1>(.*?)</h1>", page, re.DOTALL).group(1)
    description = re.search(r"<dd>([^<]*结果[^<]*|[^<]*result[^<]*)</dd>", page).group(1)
    return heading, description


def _latin_words(text, *identifiers):
    """The Latin-letter words of `text` once the record's identifiers (numbers, codes) are taken out."""
    for ident in identifiers:
        text = text.replace(ident, "")
    return re.findall(r"[A-Za-z]{2,}", text)


def test_oos_deviation_of_a_pieces_count_reads_wholly_in_the_readers_language(users, pieces_inspection, client_for):
    inspection = pieces_inspection
    result = svc.result_enter(
        user=users["qc"], inspection_id=inspection.pk, item_id=_item(inspection, "Tablet count").pk, value="27"
    )
    deviation = result.deviation
    assert deviation.description.startswith("Tablet count result 27 pcs is outside the limit 28 – 30 pcs")

    zh_heading, zh_text = _heading_and_description(_deviation_page(client_for, deviation, "zh-hans"))
    assert "片数" in zh_heading and "片数 结果 27 件 超出限度 28 – 30 件" in zh_text and "成品" in zh_text
    ids = (deviation.number, inspection.number, inspection.lot.code, "FG-T-001", "OOS")
    assert _latin_words(zh_heading + zh_text, *ids) == []

    en_heading, en_text = _heading_and_description(_deviation_page(client_for, deviation, "en"))
    assert "OOS: Tablet count of lot" in en_heading
    assert "Tablet count result 27 pcs is outside the limit 28 – 30 pcs" in en_text and "Finished product" in en_text
    assert not re.search(r"[\u4e00-\u9fff]", en_heading + en_text)


def test_a_failed_pass_fail_test_is_stored_in_english_whoever_entered_it(users, pieces_inspection, client_for):
    inspection = pieces_inspection
    with translation.override("zh-hans"):  # the QC analyst works in Chinese
        result = svc.result_enter(
            user=users["qc"], inspection_id=inspection.pk, item_id=_item(inspection, "Identification").pk, passed=False
        )
    deviation = result.deviation
    assert "Identification result Fail is outside the limit Pass" in deviation.description
    _, zh_text = _heading_and_description(_deviation_page(client_for, deviation, "zh-hans"))
    assert "鉴别 结果 不合格 超出限度 合格" in zh_text
    ids = (deviation.number, inspection.number, "FG-T-001")
    assert _latin_words(zh_text, *ids) == []


def test_the_inspection_page_shows_a_pieces_result_as_the_reader_reads_it(users, pieces_inspection, client_for):
    inspection = pieces_inspection
    svc.result_enter(
        user=users["qc"], inspection_id=inspection.pk, item_id=_item(inspection, "Tablet count").pk, value="29"
    )
    qc = client_for("qc")
    qc.cookies["django_language"] = "zh-hans"
    page = qc.get(f"/quality/inspections/{inspection.pk}/").content.decode()
    assert "29 件" in page and "28 – 30 件" in page and " pcs" not in page


def test_lot_list_shows_pieces_as_the_reader_reads_them(users, product, client_for):
    lot = receive(users, product, location(), quantity="6000")
    warehouse = client_for("warehouse")
    warehouse.cookies["django_language"] = "zh-hans"
    zh = warehouse.get(reverse("materials:lot_list")).content.decode()
    assert lot.code in zh and "6000 件" in zh and "pcs" not in zh
    warehouse.cookies["django_language"] = "en"
    en = warehouse.get(reverse("materials:lot_list")).content.decode()
    assert "6000 pcs" in en and "件" not in en


def test_a_generated_consumption_message_with_pieces_reads_in_the_readers_language():
    stored = CONSUMPTION_OUTSIDE_TOLERANCE(
        code="PK-CTN-001", used=fmt_stored(Decimal("6100"), "pcs"), req=fmt_stored(Decimal("6050"), "pcs"), tol=1
    )
    assert stored == "PK-CTN-001: 6100 pcs consumed, the recipe allows 6050 pcs ± 1 %."
    with translation.override("zh-hans"):
        shown = localized(stored)
    assert "6100 件" in shown and "6050 件" in shown and "pcs" not in shown and "consumed" not in shown
    with translation.override("en"):
        assert localized(stored) == stored
