"""mes.widgets render what Django's widgets render (issue 20: the list filters' templates were a quarter
of the page's CPU), for values that need escaping, selections, lazy labels and option groups."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from materials.forms import LotFilterForm
from mes import widgets
from orders.forms import OrderFilterForm

CHOICES = [("", _("All")), ("a&b", 'A <&> "b"'), (3, _("Released")), ("x", mark_safe("<i>safe</i>"))]
GROUPED = [("", "---"), (_("Status"), [("q", _("Quarantine")), ("r", "R & D")]), ("z", "Z")]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("fast", "slow", "value", "attrs"),
    [
        (widgets.TextInput(), forms.TextInput(), None, {"id": "id_q"}),
        (widgets.TextInput(attrs={"placeholder": _("Search")}), forms.TextInput(attrs={"placeholder": _("Search")}),
         '"quoted" <b>', {"id": "id_q", "required": True, "disabled": False, "aria-invalid": "true"}),
        (widgets.NumberInput(attrs={"min": 0}), forms.NumberInput(attrs={"min": 0}), 12, {}),
        (widgets.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
         forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), dt.date(2026, 1, 31), {"id": "d"}),
        (widgets.DateInput(), forms.DateInput(), dt.date(2026, 1, 31), {}),
        (widgets.Select(choices=CHOICES), forms.Select(choices=CHOICES), "a&b", {"id": "id_status"}),
        (widgets.Select(choices=CHOICES), forms.Select(choices=CHOICES), 3, {}),
        (widgets.Select(choices=GROUPED), forms.Select(choices=GROUPED), "r", {"class": "x"}),
        (widgets.Select(choices=[]), forms.Select(choices=[]), None, {}),
    ],
)  # fmt: skip
def test_fast_widgets_render_as_django(language, fast, slow, value, attrs):
    with translation.override(language):
        assert fast.render("f<", value, attrs) == slow.render("f<", value, attrs)


def test_a_label_the_template_would_localize_goes_through_the_template():
    choices = [(1, 1234.5), (2, dt.date(2026, 1, 2))]
    with translation.override("zh-hans"):
        assert widgets.Select(choices=choices).render("n", 1) == forms.Select(choices=choices).render("n", 1)


@pytest.mark.django_db
def test_the_filter_forms_use_them():
    for form in (LotFilterForm(), OrderFilterForm()):
        for field in form.fields.values():
            assert type(field.widget).__module__ == "mes.widgets", field
