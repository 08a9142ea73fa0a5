"""mes.generated: a stored generated sentence is recognised with empty values, translatable words,
sentences nested in it and several of them one a line, and shown in the reader's language."""

from __future__ import annotations

from django.utils import translation

from batches.services.execution import YIELD_OUTSIDE
from equipment.models import CleaningKind
from equipment.services.care import CLEANING_STARTED
from equipment.services.maintenance import FAULT_DISMISSED, FAULT_REPORTED
from mes.generated import GeneratedText, english, localized
from quality.services.deviations import FAULT_DESCRIPTION


def test_an_empty_value_and_a_translatable_word_are_shown_in_the_reader_language():
    with translation.override("zh-hans"):  # the writer's Chinese screen does not leak into the record
        stored = CLEANING_STARTED(kind=english(CleaningKind.FULL.label), sop="")
    assert stored == "Cleaning started (Full (product changeover))."
    with translation.override("zh-hans"):
        assert localized(stored) == "开始清洁（大清洁（换品种））。"
    assert localized(stored) == stored


def test_a_sentence_nested_in_another_is_translated_too():
    stored = FAULT_DESCRIPTION(n="F-00001", text=FAULT_DISMISSED(number="F-00001"))
    assert stored == "Fault F-00001: Fault F-00001 dismissed."
    with translation.override("zh-hans"):
        assert localized(stored) == "故障 F-00001：故障 F-00001 已撤销。"


def test_several_generated_sentences_one_a_line_are_each_translated_and_typed_text_stays():
    stored = "\n".join([YIELD_OUTSIDE(y="80", lo="95", hi="102"), "typed by a person"])
    with translation.override("zh-hans"):
        first, second = localized(stored).split("\n")
    assert first == "收率 80 % 超出 95–102 %。" and second == "typed by a person"


def test_a_value_that_looks_like_a_word_is_not_translated_unless_the_sentence_declares_it():
    stored = FAULT_REPORTED(number="F-1", source="Equipment alarm (OPC UA)", text="Open")
    with translation.override("zh-hans"):
        shown = localized(stored)
    assert "设备报警（OPC UA）" in shown  # the declared word
    assert shown.endswith("Open")  # what the person typed stays as typed


def test_a_broken_translation_falls_back_to_english_instead_of_failing(monkeypatch):
    sentence = GeneratedText("Test sentence %(a)s for the fallback")
    monkeypatch.setattr("mes.generated.gettext", lambda msgid: "坏的 %(b)s" if msgid == sentence.msgid else msgid)
    assert localized(sentence(a="1")) == "Test sentence 1 for the fallback"
