from django import forms
from django.utils.translation import gettext_lazy as _

from materials.models import Material, MaterialType


class MaterialFilterForm(forms.Form):
    q = forms.CharField(label=_("Code or name"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All")), *MaterialType.choices])
    active = forms.ChoiceField(
        label=_("Active"), required=False, choices=[("", _("All")), ("yes", _("Active")), ("no", _("Inactive"))]
    )


class MaterialForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason for the change"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Material
        fields = [
            "code",
            "name",
            "name_zh",
            "type",
            "unit",
            "specification",
            "storage_condition",
            "shelf_life_days",
            "retest_days",
            "active",
        ]

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = editing  # a new material's request says what it is by default
        if editing:
            self.fields["code"].disabled = True

    def validate_unique(self):
        pass  # the service answers a duplicate code in words

    def _post_clean(self):
        pass  # model validation (Material.clean) is the change request's job, on proposal and approval
