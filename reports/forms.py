"""Report filter and subscription forms (thin: the services check the rules)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from materials.models import Material
from mes.models import Line
from reports.models import Frequency, ReportKind
from reports.sources import Filters

PERIOD_KINDS = [(k, v) for k, v in ReportKind.choices if k != ReportKind.BATCH]


def _products():
    """The finished products, named in the reader's language (display_name) like everywhere else."""
    products = Material.objects.filter(type="finished").order_by("code")
    return [("", _("All products"))] + [(m.code, f"{m.code} {m.display_name}") for m in products]


def _lines():
    return [("", _("All lines"))] + [(c, c) for c in Line.objects.order_by("code").values_list("code", flat=True)]


class FilterForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    product = forms.ChoiceField(label=_("Product"), required=False)
    line = forms.ChoiceField(label=_("Line"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = _products()
        self.fields["line"].choices = _lines()

    @staticmethod
    def initial_period() -> dict:
        today = timezone.localdate()
        return {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise forms.ValidationError(_("The end of the period is before its start."))
            if data["end"] - data["start"] > dt.timedelta(days=366):
                raise forms.ValidationError(_("Choose a period of at most one year."))
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(d["start"], d["end"], d.get("product") or "", d.get("line") or "")


class SubscriptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Report"), choices=PERIOD_KINDS)
    frequency = forms.ChoiceField(label=_("Schedule"), choices=Frequency.choices)
    email = forms.EmailField(label=_("E-mail address"))
    product = forms.ChoiceField(label=_("Product"), required=False)
    line = forms.ChoiceField(label=_("Line"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = _products()
        self.fields["line"].choices = _lines()
