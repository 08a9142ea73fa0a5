from django import forms
from django.utils.translation import gettext_lazy as _


class AuditSearchForm(forms.Form):
    user = forms.CharField(label=_("User"), required=False)
    action = forms.CharField(label=_("Action"), required=False)
    record_type = forms.CharField(label=_("Record type"), required=False)
    record_id = forms.CharField(label=_("Record id"), required=False)
    text = forms.CharField(label=_("Text in values or reason"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
