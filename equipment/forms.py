"""Forms of the equipment pages (validation only; the rules live in equipment.services)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from equipment.models import CleaningKind
from mes.models import Line


class SignatureMixin(forms.Form):
    """The fields of templates/includes/signature_fields.html."""

    password = forms.CharField(widget=forms.PasswordInput, required=True)
    reason = forms.CharField(required=False, max_length=500)


class BoardFilterForm(forms.Form):
    line = forms.ModelChoiceField(
        Line.objects.all(), required=False, to_field_name="code", label=_("Line"), empty_label=_("All lines")
    )


class CleaningStartForm(forms.Form):
    kind = forms.ChoiceField(label=_("Cleaning type"), choices=CleaningKind.choices)
    procedure = forms.CharField(label=_("Cleaning procedure (SOP)"), max_length=60, required=False)


class CleaningFinishForm(SignatureMixin):
    remarks = forms.CharField(label=_("Remarks"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class FaultForm(forms.Form):
    description = forms.CharField(label=_("What is wrong?"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500)


class CalibrationForm(SignatureMixin):
    performed_on = forms.DateField(label=_("Performed on"), widget=forms.DateInput(attrs={"type": "date"}))
    passed = forms.TypedChoiceField(
        label=_("Result"), coerce=lambda v: v == "1", choices=[("1", _("Passed")), ("0", _("Failed"))]
    )
    certificate = forms.CharField(label=_("Certificate / report number"), max_length=80)
    remarks = forms.CharField(label=_("Remarks"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["performed_on"].initial = timezone.localdate()


class WorkOrderCompleteForm(SignatureMixin):
    work_done = forms.CharField(label=_("Work done"), widget=forms.Textarea(attrs={"rows": 3}))
    parts_replaced = forms.CharField(
        label=_("Parts replaced"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    labour_minutes = forms.IntegerField(label=_("Working time (minutes)"), min_value=1, max_value=10000)


class RequalifyForm(SignatureMixin):
    notes = forms.CharField(label=_("Checks done for the requalification"), widget=forms.Textarea(attrs={"rows": 3}))


class DailyCheckForm(forms.Form):
    """One OK / not OK choice and a note per checklist item."""

    remarks = forms.CharField(label=_("Remarks"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=item.display_name, widget=forms.RadioSelect, choices=[("ok", _("OK")), ("nok", _("Not OK"))]
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(label=_("Note"), required=False, max_length=300)

    def rows(self):
        return [(item, self[f"item_{item.pk}"], self[f"note_{item.pk}"]) for item in self.items]

    def answers(self) -> dict[int, tuple[bool, str]]:
        return {
            i.pk: (self.cleaned_data[f"item_{i.pk}"] == "ok", self.cleaned_data[f"note_{i.pk}"]) for i in self.items
        }


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), required=False)
    end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}), required=False)

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """The chosen days in plant time (default: the last 7 days up to now)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        tz = timezone.get_current_timezone()
        today = timezone.localdate()
        start_day = data.get("start") or today - dt.timedelta(days=6)
        end_day = data.get("end") or today
        start = dt.datetime.combine(start_day, dt.time.min, tzinfo=tz)
        end = min(dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=tz), timezone.now())
        return start, max(end, start)
