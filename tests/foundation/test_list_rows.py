"""The office lists' rows built in Python (mes/templatetags/list_rows.py) are the HTML their template
loops rendered (issue 20: the loops were most of the lists' CPU), in both languages, for awkward values."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import timezone, translation

from audit.models import AuditEvent
from batches.models import Batch, StepExecution
from materials.models import Lot, Material

# The loops as they were in audit/event_list.html and materials/lot_list.html.
AUDIT_LOOP = """{% load mes_tags %}{% for e in page %}
    <tr><td><a href="{% url 'audit:event_detail' e.seq %}">{{ e.seq }}</a></td>
      <td><span class="nowrap">{{ e.timestamp|date:"Y-m-d" }}</span> <span class="nowrap">{{ e.timestamp|date:"H:i:s" }}</span></td><td>{{ e.username }}</td><td><code>{{ e.action|dotted_breaks }}</code></td>
      <td class="record">{% if e.object_type %}<a href="{% url 'audit:record_history' e.object_type e.object_id|default:'-' %}">{{ e.object_type }} {{ e.object_repr|truncatechars:40 }}</a>{% endif %}</td>
      <td class="changes">{% for name, old, new in e.changes|slice:":4" %}<div><b>{{ name }}</b>: {% if old is not None %}<s>{{ old|truncatechars:30 }}</s> → {% endif %}{{ new|truncatechars:40 }}</div>{% endfor %}</td>
      <td>{{ e.reason|localized|truncatechars:60 }}</td></tr>
  {% endfor %}"""
LOT_LOOP = """{% load i18n %}{% for lot in page %}
    <tr><td class="ident"><a class="strong" href="{% url 'materials:lot_detail' lot.code %}">{{ lot.code }}</a></td>
      <td>{{ lot.material.code }}<div class="small muted">{{ lot.material.display_name }}</div></td>
      <td><span class="badge badge-{{ lot.status_tone }}">{{ lot.get_effective_status_display }}</span></td>
      <td class="nowrap">{{ lot.expiry_date|date:"Y-m-d" }}</td>
      <td class="num">{{ lot.stock|floatformat:"-3" }} {{ lot.unit|unit_label }}</td>
      <td>{% if lot.produced_by %}{% trans "batch" %} {{ lot.produced_by.number }}{% else %}{{ lot.supplier }} <span class="muted small">{{ lot.supplier_lot }}</span>{% endif %}</td>
      <td class="nowrap small">{{ lot.received_at|date:"Y-m-d H:i" }}</td></tr>
  {% endfor %}"""
NEW_AUDIT = "{% load list_rows %}{% for row in page|audit_event_rows %}{{ row }}{% endfor %}"
NEW_LOTS = '{% load i18n list_rows %}{% trans "batch" as w %}{% for row in page|lot_rows:w %}{{ row }}{% endfor %}'


def _render(source: str, page) -> str:
    return engines["django"].from_string(source).render({"page": page})


def _events() -> list[AuditEvent]:
    at = dt.datetime(2026, 3, 1, 23, 59, 58, tzinfo=dt.UTC)  # the next day in plant time
    values = {"a": None, "b<": "<script>&amp;", "c": 12.5, "d": ["x", 1], "e": {"k": "v"}, "f": True,
              "g": "数据完整性" * 10, "h": "x" * 45}  # fmt: skip
    rows = [
        dict(object_type="batches.batch", object_id="12", object_repr="B-1 <b>" + "y" * 50,
             old_values=json.dumps({"status": "in_progress", "x": 1}), new_values=json.dumps(values),
             reason="Entry corrected"),
        dict(object_type="", object_id="", object_repr="", old_values="", new_values="", reason=""),
        dict(object_type="odd type&'\"", object_id="", object_repr="ü" * 41, old_values="",
             new_values=json.dumps({"only": "new"}), reason="café au lait " * 8),
        dict(object_type="quality.deviation", object_id="a b?c#%é:@", object_repr="DEV", old_values="",
             new_values="", reason="line one\nline two"),
    ]  # fmt: skip
    return [
        AuditEvent(seq=1000 + i, timestamp=at, username=f"qa<{i}>", action="batch.step_sign_off.x", **row)
        for i, row in enumerate(rows)
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_audit_rows_are_the_template_loop(language):
    with translation.override(language):
        assert _render(NEW_AUDIT, _events()) == _render(AUDIT_LOOP, _events())


def test_a_record_id_with_a_slash_fails_as_the_template_did():
    event = AuditEvent(seq=1, timestamp=timezone.now(), object_type="a", object_id="x/y", action="a")
    errors = []
    for source in (AUDIT_LOOP, NEW_AUDIT):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the same error from both, whatever it is
            _render(source, [event])
        errors.append(type(caught.value))
    assert errors[0] is errors[1]


def _lots() -> list[Lot]:
    material = Material(code="API-<1>", name="Paracetamol & co", name_zh="对乙酰氨基酚")
    plain = Material(code="EXC-2", name="Lactose", name_zh="")
    today = timezone.localdate()
    received = dt.datetime(2026, 5, 4, 17, 30, tzinfo=dt.UTC)
    lots = []
    for i, (status, expiry, stock, produced) in enumerate(
        [
            ("released", today, Decimal("12.500"), None),
            ("quarantine", today - dt.timedelta(days=1), Decimal("0"), None),
            ("consumed", today - dt.timedelta(days=9), Decimal("1234.125"), Batch(number="B-26/0001")),
            ("blocked", today + dt.timedelta(days=400), Decimal("-3.000"), None),
            ("rejected", today, Decimal("0.001"), None),
        ]  # fmt: skip
    ):
        lot = Lot(code=f"L{i}-&x", material=material if i % 2 else plain, status=status, expiry_date=expiry,
                  unit="kg", supplier="ACME <GmbH>" if i else "", supplier_lot="S'1", received_at=received,
                  produced_by=produced)  # fmt: skip
        lot.stock = stock
        lots.append(lot)
    return lots


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_lot_rows_are_the_template_loop(language):
    with translation.override(language):
        new, old = _render(NEW_LOTS, _lots()), _render(LOT_LOOP, _lots())
    assert new == old
    assert ("批次 B-26/0001" if language == "zh-hans" else "batch B-26/0001") in new


# The step buttons' loop as it was in batches/step.html.
STEP_LOOP = """{% for st, url in step_links %}<a class="btn {% if st.pk == step.pk %}btn-primary{% else %}btn-secondary{% endif %}" href="{{ url }}">{{ st.number }}</a>{% endfor %}"""
NEW_STEPS = "{% load list_rows %}{{ step_links|step_buttons:step }}"


@pytest.mark.parametrize("grouping", [False, True])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_step_buttons_are_the_template_loop(language, grouping, settings):
    settings.USE_THOUSAND_SEPARATOR = grouping
    steps = [StepExecution(pk=pk, number=n) for pk, n in [(7, 10), (8, 20), (9, 1000), (10, 12345678), (11, 0)]]
    links = [(st, f"/batches/B-26/0001 <&'\">/steps/{st.number}/") for st in steps]
    with translation.override(language):
        for current in (steps[1], steps[3], StepExecution(pk=99, number=5)):
            context = {"step_links": links, "step": current}
            old = engines["django"].from_string(STEP_LOOP).render(context)
            new = engines["django"].from_string(NEW_STEPS).render(context)
            assert new == old
            assert old.count("btn-primary") == (current in steps)
    assert engines["django"].from_string(NEW_STEPS).render({"step_links": [], "step": steps[0]}) == ""
