"""The project's truncatechars and date (mes/templatetags/fast_filters.py, a template builtin) give
Django's own output for every input, fast path or not."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Engine, Template, engines
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

TEXTS = ["", "short", "x" * 40, "x" * 41, "exactly ten", "café au lait " * 5, "e\u0301" * 30, "a\u0301bc",
         "数据完整性" * 10, "<b>bold</b> and more text than the limit", mark_safe("<i>safe</i>"), 12345678901234,
         None]  # fmt: skip
LIMITS = ["40", "10", "1", "0", "-3", "x"]


def _both(source: str, context: dict) -> tuple[str, str]:
    """Rendered by the project's engine (with the builtins) and by a plain Django engine."""
    return _render(lambda: engines["django"].from_string(source).render(context)), _render(
        lambda: Template(source, engine=Engine()).render(Context(context))
    )


def _render(fn) -> str:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - an error must be the same error in both
        return f"{type(exc).__name__}: {exc}"


def test_the_project_engine_uses_the_fast_filters():
    from mes.templatetags import fast_filters

    engine = engines["django"].engine
    resolved = {}  # as the engine resolves a filter name: a later builtin library overrides an earlier one
    for library in engine.template_builtins:
        resolved.update(library.filters)
    assert resolved["truncatechars"] is fast_filters.truncatechars
    assert resolved["date"] is fast_filters.date


@pytest.mark.parametrize("limit", LIMITS)
def test_truncatechars_gives_djangos_output(limit):
    for text in TEXTS:
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                ours, reference = _both(
                    "{{ v|truncatechars:n }}|{% autoescape off %}{{ v|truncatechars:n }}{% endautoescape %}",
                    {"v": text, "n": limit},
                )
            assert ours == reference, (text, limit, lang)


@pytest.mark.parametrize(
    "fmt",
    ["Y-m-d", "H:i:s", "Y-m-d H:i", "d.m.Y", "Y/m/d H:i:s", "N j, Y", "DATETIME_FORMAT", "D H:i", "Y-m-d\\TH:i", ""],
)
def test_date_gives_djangos_output(fmt):
    values = [
        dt.datetime(2026, 12, 4, 23, 59, 7, tzinfo=dt.UTC),  # another day in plant time
        dt.datetime(7, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
        dt.datetime(2026, 3, 1, 9, 0),  # naive
        dt.date(2026, 5, 6),
        timezone.now(),
        None,
        "",
        "not a date",
    ]
    for value in values:
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                ours, reference = _both("{{ v|date:f }}", {"v": value, "f": fmt})
            assert ours == reference, (value, fmt, lang)
