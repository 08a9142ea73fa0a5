"""Forms of the materials pages: they validate input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from materials.models import EXPIRED, EXPIRED_LABEL, Location, LotStatus, Material
from mes import widgets
from mes.units import Unit


class DateInput(forms.DateInput):
    input_type = "date"


def _locations():
    return Location.objects.filter(active=True).order_by("code")


class ReceiptForm(forms.Form):
    material = forms.ModelChoiceField(Material.objects.filter(active=True), label=_("Material"))
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    containers = forms.IntegerField(label=_("Containers"), min_value=1, max_value=999, initial=1)
    supplier = forms.CharField(label=_("Supplier"), max_length=200)
    supplier_lot = forms.CharField(label=_("Supplier lot"), max_length=80)
    manufacture_date = forms.DateField(label=_("Manufacture date"), required=False, widget=DateInput)
    expiry_date = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=DateInput,
        help_text=_("Leave empty to use the material's shelf life."),
    )
    retest_date = forms.DateField(label=_("Retest date"), required=False, widget=DateInput)
    location = forms.ModelChoiceField(_locations(), label=_("Put away to"))
    reference = forms.CharField(label=_("Delivery note / document"), max_length=80, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()


STATUS_FILTER_CHOICES = [("", _("All")), *LotStatus.choices, (EXPIRED, EXPIRED_LABEL)]


class LotFilterForm(forms.Form):
    # mes.widgets: the same HTML as Django's widgets, rendered without their templates (the list's CPU)
    q = forms.CharField(label=_("Lot / supplier lot"), required=False, widget=widgets.TextInput)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTER_CHOICES, required=False, widget=widgets.Select)
    material = forms.ModelChoiceField(
        Material.objects.all(), label=_("Material"), required=False, widget=widgets.Select
    )
    expires_within = forms.IntegerField(
        label=_("Expires within (days)"), min_value=0, max_value=3650, required=False, widget=widgets.NumberInput
    )
    location = forms.ModelChoiceField(
        Location.objects.all(), label=_("Location"), required=False, widget=widgets.Select
    )


class StatusActionForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(label=_("Your password"), required=False, widget=forms.PasswordInput)


class LabelForm(forms.Form):
    containers = forms.CharField(label=_("Containers (empty: all)"), required=False, help_text=_("For example 1-3,5"))
    reason = forms.CharField(label=_("Reason for a re-print"), required=False)

    def clean_containers(self):
        text = self.cleaned_data["containers"].replace(" ", "")
        numbers: list[int] = []
        try:
            for part in filter(None, text.split(",")):
                start, _sep, end = part.partition("-")
                numbers.extend(range(int(start), int(end or start) + 1))
        except ValueError:
            raise forms.ValidationError(_("Write container numbers like 1-3,5.")) from None
        return numbers or None


class TransferForm(forms.Form):
    from_location = forms.ModelChoiceField(Location.objects.all(), label=_("From"))
    to_location = forms.ModelChoiceField(Location.objects.none(), label=_("To"))
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    reason = forms.CharField(label=_("Reason"), required=False)

    def __init__(self, *args, lot=None, **kwargs):
        super().__init__(*args, **kwargs)
        if lot is not None:
            self.fields["from_location"].queryset = Location.objects.filter(
                balances__lot=lot, balances__quantity__gt=0
            ).distinct()
        self.fields["to_location"].queryset = _locations()


class AdjustForm(forms.Form):
    location = forms.ModelChoiceField(Location.objects.none(), label=_("Location"))
    quantity = forms.DecimalField(label=_("Change (+ adds, − removes)"), max_digits=14, decimal_places=3)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()


class ScanForm(forms.Form):
    lot_code = forms.CharField(label=_("Scan the lot or container label"), max_length=60)


class IssueForm(forms.Form):
    lot_code = forms.CharField(widget=forms.HiddenInput, max_length=60)
    quantity = forms.DecimalField(label=_("Weighed quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    verifier = forms.CharField(label=_("Second person (user name)"), required=False, max_length=150)
    verifier_password = forms.CharField(label=_("Second person's password"), required=False, widget=forms.PasswordInput)


class ReturnForm(forms.Form):
    lot_code = forms.CharField(label=_("Lot"), max_length=60)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    location = forms.ModelChoiceField(Location.objects.none(), label=_("Back to location"))
    reason = forms.CharField(label=_("Reason"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()


class WasteForm(forms.Form):
    lot_code = forms.CharField(label=_("Lot"), max_length=60)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, min_value=0.001)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    reason = forms.CharField(label=_("Reason"))


class OutputForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity made"), max_digits=14, decimal_places=3, min_value=0.001)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    containers = forms.IntegerField(label=_("Containers"), min_value=1, max_value=999, initial=1)
    location = forms.ModelChoiceField(Location.objects.none(), label=_("Location"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()
