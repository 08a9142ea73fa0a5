"""Chinese names of the English names generated sentences store (mes.names): one query per model and
request however many rows a list shows, and a master-data edit shows from the next request on."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from audit.context import request_scope
from equipment.models import ChecklistItem, EquipmentClass
from mes.changecontrol import controlled_writes
from mes.names import chinese_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def items():
    with controlled_writes("test: checklist items with Chinese names"):
        kind = EquipmentClass.objects.create(code="TST", name="Test class")
        for n, (en, zh) in enumerate([("Guard intact", "防护罩完好"), ("Oil level", "油位"), ("Clean", "")]):
            ChecklistItem.objects.create(equipment_class=kind, name=en, name_zh=zh, order=n)
    return kind


def _scope():
    return request_scope(RequestFactory().get("/"), "r1", "127.0.0.1")


def test_a_request_reads_a_models_names_once_whatever_the_rows(items):
    with translation.override("zh-hans"), _scope(), CaptureQueriesContext(connection) as queries:
        shown = [chinese_name(ChecklistItem, "name", "name_zh", n) for n in ["Guard intact", "Oil level"] * 20]
        assert chinese_name(ChecklistItem, "name", "name_zh", "Clean") == "Clean"  # no Chinese name: as stored
    assert shown[:2] == ["防护罩完好", "油位"]
    assert len(queries) == 1


def test_an_edit_shows_on_the_next_request_and_other_readers_see_the_stored_name(items):
    with translation.override("zh-hans"), _scope():
        assert chinese_name(ChecklistItem, "name", "name_zh", "Oil level") == "油位"
    with controlled_writes("test: renamed"):
        item = ChecklistItem.objects.get(name="Oil level")
        item.name_zh = "润滑油位"
        item.save()
    with translation.override("zh-hans"), _scope():
        assert chinese_name(ChecklistItem, "name", "name_zh", "Oil level") == "润滑油位"
    with translation.override("zh-hans"):  # a task, outside any request: the name alone, read now
        assert chinese_name(ChecklistItem, "name", "name_zh", "Oil level") == "润滑油位"
    with translation.override("en"), CaptureQueriesContext(connection) as queries:
        assert chinese_name(ChecklistItem, "name", "name_zh", "Oil level") == "Oil level"
    assert len(queries) == 0
