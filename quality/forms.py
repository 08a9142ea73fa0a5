"""Thin forms for the quality pages; the rules live in quality.services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from materials.models import Material
from quality.models import CAPAKind, DeviationClass, DeviationSource, DeviationStatus, InspectionType, LimitKind
from quality.models.common import DispositionKind
from quality.services.deviations import capa_owner_choices


class SignatureForm(forms.Form):
    """The e-signature fields every signed action posts (rendered by includes/signature_fields.html)."""

    password = forms.CharField(widget=forms.PasswordInput, required=False)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SpecCreateForm(forms.Form):
    material = forms.ModelChoiceField(label=_("Material or product"), queryset=Material.objects.filter(active=True))
    inspection_type = forms.ChoiceField(label=_("Inspection type"), choices=InspectionType.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    reference = forms.CharField(label=_("Document reference"), max_length=80, required=False)
    sample_size = forms.CharField(label=_("Sampling plan"), max_length=200, required=False)


class TestItemForm(forms.Form):
    __test__ = False

    sequence = forms.IntegerField(label=_("No."), min_value=1, initial=10)
    name = forms.CharField(label=_("Test (English)"), max_length=200)
    name_zh = forms.CharField(label=_("Test (Chinese)"), max_length=200, required=False)
    method = forms.CharField(label=_("Method"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Limit type"), choices=LimitKind.choices)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    lower_limit = forms.DecimalField(label=_("Lower limit"), required=False, max_digits=16, decimal_places=4)
    upper_limit = forms.DecimalField(label=_("Upper limit"), required=False, max_digits=16, decimal_places=4)
    acceptance = forms.CharField(label=_("Acceptance criterion"), max_length=300, required=False)


class DeviationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open (all open states)")), ("all", _("All"))] + list(DeviationStatus.choices),
    )
    classification = forms.ChoiceField(
        label=_("Classification"), required=False, choices=[("", _("All"))] + list(DeviationClass.choices)
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("All"))] + list(DeviationSource.choices)
    )
    q = forms.CharField(label=_("Number or text"), required=False)


LINK_TYPES = [
    ("", _("— nothing —")),
    ("batches.batch", _("Batch")),
    ("batches.step", _("Batch step")),
    ("materials.lot", _("Material lot")),
    ("equipment.equipment", _("Equipment")),
]


class DeviationRaiseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}))
    classification = forms.ChoiceField(label=_("Classification"), choices=DeviationClass.choices)
    link_type = forms.ChoiceField(label=_("Concerns"), choices=LINK_TYPES, required=False)
    link_ref = forms.CharField(
        label=_("Number or code"),
        max_length=60,
        required=False,
        help_text=_("Batch number, lot code or equipment code."),
    )

    def clean(self):
        data = super().clean()
        if data.get("link_type") and not (data.get("link_ref") or "").strip():
            self.add_error("link_ref", _("Give the number or code of the record it concerns."))
        return data


class InvestigateForm(SignatureForm):
    classification = forms.ChoiceField(label=_("Classification"), choices=DeviationClass.choices, required=False)


class ConcludeForm(SignatureForm):
    root_cause = forms.CharField(label=_("Root cause"), widget=forms.Textarea(attrs={"rows": 3}))
    impact_assessment = forms.CharField(label=_("Impact on batches and lots"), widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(SignatureForm):
    closure_summary = forms.CharField(label=_("Closure summary"), widget=forms.Textarea(attrs={"rows": 3}))
    no_capa_justification = forms.CharField(
        label=_("Justification for closing without a CAPA (QA, major or critical only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CAPACreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=CAPAKind.choices)
    action = forms.CharField(label=pgettext_lazy("CAPA", "Action"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = capa_owner_choices()
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["due_date"].initial = timezone.localdate() + timezone.timedelta(days=30)


class CAPASubmitForm(SignatureForm):
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}))


class CAPACloseForm(SignatureForm):
    effectiveness = forms.CharField(label=_("Effectiveness check result"), widget=forms.Textarea(attrs={"rows": 3}))


class InspectionCreateForm(forms.Form):
    lot_code = forms.CharField(label=_("Lot number"), max_length=40)
    inspection_type = forms.ChoiceField(label=_("Inspection type"), choices=InspectionType.choices)


class SampleForm(forms.Form):
    quantity = forms.DecimalField(label=_("Sample quantity"), max_digits=12, decimal_places=3, min_value=0)
    unit = forms.CharField(label=_("Unit"), max_length=10)
    container = forms.CharField(label=_("Container(s)"), max_length=60, required=False)


class CompleteForm(SignatureForm):
    conclusion = forms.CharField(label=_("Conclusion"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DispositionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Disposition"), choices=DispositionKind.choices)
    instruction = forms.CharField(
        label=_("Instruction"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For rework: the approved rework instruction. For scrap or destruction: how and where."),
    )
