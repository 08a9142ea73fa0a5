"""Forms of the orders pages: input validation only; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from equipment.models import EquipmentClass
from materials.models import Material, MaterialType
from mes import widgets
from mes.models import Line
from orders.models import (
    OrderStatus,
    ProcessParameter,
    ProductionOrder,
    Recipe,
    RecipeMaterial,
    RecipeStatus,
    RecipeStep,
    StepCheck,
)

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
FILTER_DATE = widgets.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PRODUCT_TYPES = (MaterialType.FINISHED, MaterialType.INTERMEDIATE)


def products():
    return Material.objects.filter(type__in=PRODUCT_TYPES, active=True).order_by("code")


class OrderFilterForm(forms.Form):
    """The planner's order list filters (status, line, product, planned start date, text)."""

    # mes.widgets: the same HTML as Django's widgets, rendered without their templates (the list's CPU)
    q = forms.CharField(label=_("Order or ERP number"), required=False, widget=widgets.TextInput)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *OrderStatus.choices], widget=widgets.Select
    )
    line = forms.ModelChoiceField(
        label=_("Line"), required=False, queryset=Line.objects.all(), empty_label=_("All"), widget=widgets.Select
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        required=False,
        queryset=Material.objects.none(),
        empty_label=_("All"),
        widget=widgets.Select,
    )
    start_from = forms.DateField(label=_("Start from"), required=False, widget=FILTER_DATE)
    start_to = forms.DateField(label=_("Start to"), required=False, widget=FILTER_DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products()

    def clean(self):
        data = super().clean()
        if data.get("start_from") and data.get("start_to") and data["start_from"] > data["start_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class OrderForm(forms.ModelForm):
    """Create or change an order. Product and ERP reference are set only at creation."""

    reason = forms.CharField(label=_("Reason for the change"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = ProductionOrder
        fields = [
            "product",
            "planned_quantity",
            "unit",
            "planned_start",
            "planned_end",
            "line",
            "priority",
            "operators_required",
            "erp_reference",
            "resource_notes",
        ]
        widgets = {
            "planned_start": DATETIME,
            "planned_end": DATETIME,
            "resource_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products()
        self.fields["line"].queryset = Line.objects.filter(active=True)
        self.fields["planned_quantity"].widget.attrs["step"] = "any"
        if editing:
            del self.fields["product"]
            del self.fields["erp_reference"]
        else:
            del self.fields["reason"]

    def _post_clean(self):
        # Model validation (constraints) is the service's job: it answers in the user's words.
        pass


class SignForm(forms.Form):
    """The signature dialog fields (password and reason) of a signed action."""

    password = forms.CharField(label=_("Your password"), required=False, widget=forms.PasswordInput)
    reason = forms.CharField(label=_("Reason / comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BatchCreateForm(forms.Form):
    count = forms.IntegerField(label=_("Number of batches"), min_value=1, max_value=50)
    operators = forms.ModelMultipleChoiceField(
        label=_("Operators"), queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operators"].queryset = (
            get_user_model().objects.filter(is_active=True, groups__name="operator").order_by("username")
        )
        self.fields["operators"].label_from_instance = lambda u: u.get_full_name() or u.username


# --- recipes -------------------------------------------------------------------------------------


class RecipeFilterForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Material.objects.none(), empty_label=_("All")
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *RecipeStatus.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products()


class _NoModelValidation(forms.ModelForm):
    def _post_clean(self):
        pass


class RecipeForm(_NoModelValidation):
    class Meta:
        model = Recipe
        fields = [
            "product",
            "purpose",
            "title",
            "batch_size",
            "unit",
            "expected_yield",
            "yield_min",
            "yield_max",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].help_text = _(
            "Rework: how a nonconforming lot of the product is reworked under an approved rework disposition; "
            "its materials list the product itself."
        )
        if editing:
            del self.fields["product"]
            del self.fields["purpose"]  # fixed when the record is created
        else:
            self.fields["product"].queryset = products()


class BOMLineForm(_NoModelValidation):
    class Meta:
        model = RecipeMaterial
        fields = ["position", "material", "quantity", "unit", "tolerance_pct", "weigh_and_verify", "step_number"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].queryset = Material.objects.filter(active=True).order_by("code")


class StepForm(_NoModelValidation):
    class Meta:
        model = RecipeStep
        fields = [
            "number",
            "title",
            "title_zh",
            "instruction",
            "instruction_zh",
            "equipment_class",
            "duration_minutes",
            "performer_signature",
            "verifier_signature",
            "allow_parallel",
        ]
        widgets = {
            "instruction": forms.Textarea(attrs={"rows": 4}),
            "instruction_zh": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment_class"].queryset = EquipmentClass.objects.order_by("code")


class CheckForm(_NoModelValidation):
    class Meta:
        model = StepCheck
        fields = ["number", "kind", "question", "question_zh", "expected_answer", "unit", "lower_limit", "upper_limit"]


class ParameterForm(_NoModelValidation):
    class Meta:
        model = ProcessParameter
        fields = ["name", "name_zh", "unit", "target", "minimum", "maximum", "critical", "equipment_tag"]


class DiffForm(forms.Form):
    other = forms.ModelChoiceField(label=_("Compare with version"), queryset=Recipe.objects.none())

    def __init__(self, *args, recipe: Recipe, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = Recipe.objects.filter(product_id=recipe.product_id).exclude(pk=recipe.pk)
        self.fields["other"].label_from_instance = lambda r: f"v{r.version} ({r.get_status_display()})"


class TrainingForm(forms.Form):
    trainee = forms.ModelChoiceField(label=_("Trainee"), queryset=get_user_model().objects.none())
    recipe = forms.ModelChoiceField(
        label=_("Master batch record version"), required=False, queryset=Recipe.objects.none()
    )
    sop_code = forms.CharField(label=_("or SOP code"), required=False, max_length=60)
    trained_on = forms.DateField(label=_("Trained on"), widget=DATE)
    valid_until = forms.DateField(label=_("Valid until"), widget=DATE)
    trainer = forms.CharField(label=_("Trainer"), required=False, max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trainee"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["trainee"].label_from_instance = lambda u: f"{u.get_full_name() or u.username} ({u.username})"
        self.fields["recipe"].queryset = (
            Recipe.objects.exclude(status=RecipeStatus.RETIRED)
            .select_related("product")
            .order_by("product__code", "-version")
        )
