"""A unit is stored as its code and shown in the reader's language (issue 17): pieces are 件 in Chinese,
metric symbols read the same in every language, and a stored quantity text keeps its code."""

from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from mes.units import quantity_label, unit_in_text, unit_label


def _render(source, **context):
    return Template(source).render(Context(context))


def test_pieces_read_in_the_readers_language_and_metric_symbols_never_change():
    with translation.override("zh-hans"):
        assert [unit_label(u) for u in ("pcs", "kg", "g", "mg", "L", "mL", "", None)] == [
            "件", "kg", "g", "mg", "L", "mL", "", "",
        ]  # fmt: skip
        assert quantity_label(Decimal("6000.000"), "pcs") == "6000 件"
        assert unit_in_text("98 – 102 pcs") == "98 – 102 件" and unit_in_text("12 kg") == "12 kg"
    with translation.override("en"):
        assert unit_label("pcs") == "pcs" and quantity_label(Decimal("1.50"), "kg") == "1.5 kg"


def test_every_template_has_the_unit_filters_without_loading_them():
    source = "{{ lot.unit|unit_label }} · {{ lot.stock|quantity:lot.unit }} · {{ none|quantity:'kg' }}"
    lot = {"unit": "pcs", "stock": Decimal("2E+2")}
    with translation.override("zh-hans"):
        assert _render(source, lot=lot, none=None) == "件 · 200 件 · —"
    with translation.override("en"):
        assert _render(source, lot=lot, none=None) == "pcs · 200 pcs · —"
