"""Django admin for master batch records and training: every save goes through the services.

The admin cannot bypass the status rules: only a draft recipe is editable (everything else is
read-only), deletions are impossible, the status is never a form field, and a refusal from a
service rolls the whole admin save back and is shown as a message.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect

from orders import services as s
from orders.models import (
    OrderAmendment,
    OrderApproval,
    ProcessParameter,
    ProductionOrder,
    Recipe,
    RecipeMaterial,
    RecipeStep,
    StepCheck,
    TrainingRecord,
)
from orders.services.recipes import BOM_FIELDS, CHECK_FIELDS, HEADER_FIELDS, PARAMETER_FIELDS, STEP_FIELDS


class ServiceAdmin(admin.ModelAdmin):
    """Refusals from services become messages; the whole admin save is rolled back."""

    def has_delete_permission(self, request, obj=None):
        return False

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            transaction.set_rollback(True)
            for text in exc.messages:
                self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class _PartInline(admin.TabularInline):
    extra = 0
    can_delete = True  # "delete" in the admin means: remove from the draft (flagged, never deleted)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(removed=False)

    def _editable(self, obj) -> bool:
        recipe = obj if isinstance(obj, Recipe) else getattr(obj, "recipe", None)
        return recipe is not None and recipe.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and request.user.has_perm("orders.change_recipe")

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and request.user.has_perm("orders.change_recipe")

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


class BOMInline(_PartInline):
    model = RecipeMaterial
    fields = BOM_FIELDS


class StepInline(_PartInline):
    model = RecipeStep
    fields = (
        "number",
        "title",
        "title_zh",
        "equipment_class",
        "duration_minutes",
        "verifier_signature",
        "allow_parallel",
    )
    show_change_link = True


@admin.register(Recipe)
class RecipeAdmin(ServiceAdmin):
    list_display = ("product", "version", "title", "status", "author", "approved_by", "effective_at")
    list_filter = ("status", "product")
    inlines = [BOMInline, StepInline]
    readonly_fields = ("version", "status", "author", "approved_by", "effective_at", "based_on", "created_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return ("product", "purpose", *HEADER_FIELDS, *self.readonly_fields)
        if obj is not None:
            return ("product", "purpose", *self.readonly_fields)  # the purpose is fixed at creation
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        values = {k: form.cleaned_data[k] for k in HEADER_FIELDS if k in form.cleaned_data}
        if change:
            s.recipe_update(user=request.user, recipe_id=obj.pk, **values)
        else:
            created = s.recipe_create(
                user=request.user,
                product=form.cleaned_data["product"],
                purpose=form.cleaned_data.get("purpose") or "standard",
                **values,
            )
            obj.pk, obj.version, obj._state.adding = created.pk, created.version, False

    def save_formset(self, request, form, formset, change):
        recipe = form.instance
        service, fields, id_name, kind = {
            RecipeMaterial: (s.recipe_bom_line_save, BOM_FIELDS, "line_id", "bom"),
            RecipeStep: (s.recipe_step_save, STEP_FIELDS, "step_id", "step"),
        }[formset.model]
        _save_parts(request, formset, service, fields, id_name, kind, {"recipe_id": recipe.pk})


def _save_parts(request, formset, service, fields, id_name, kind, ids) -> None:
    # The admin's change message reads these lists, which formset.save() would have filled.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for inline_form in formset.forms:
        if not inline_form.has_changed() and not formset._should_delete_form(inline_form):
            continue
        # The bound "id" field names the existing row (None for a new one).
        existing = getattr(inline_form.cleaned_data.get("id"), "pk", None)
        if formset._should_delete_form(inline_form):
            if existing:
                s.recipe_part_remove(
                    user=request.user,
                    recipe_id=ids["recipe_id"],
                    kind=kind,
                    part_id=existing,
                    reason="removed in the admin",
                )
            continue
        values = {k: inline_form.cleaned_data[k] for k in fields if k in inline_form.cleaned_data}
        service(user=request.user, **ids, **{id_name: existing}, **values)


class CheckInline(_PartInline):
    model = StepCheck
    fields = CHECK_FIELDS

    def _editable(self, obj):
        return obj is not None and obj.recipe.is_editable


class ParameterInline(_PartInline):
    model = ProcessParameter
    fields = PARAMETER_FIELDS

    def _editable(self, obj):
        return obj is not None and obj.recipe.is_editable


@admin.register(RecipeStep)
class RecipeStepAdmin(ServiceAdmin):
    """A step with its checks and parameters (reached from the recipe's step list)."""

    list_display = ("recipe", "number", "title", "equipment_class")
    inlines = [ParameterInline, CheckInline]
    fields = ("recipe", *STEP_FIELDS[:1], *STEP_FIELDS[1:])

    def has_add_permission(self, request):
        return False  # steps are added from their recipe

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.recipe.is_editable:
            return ("recipe", *STEP_FIELDS)
        return ("recipe",)

    def has_module_permission(self, request):
        return False  # reached only through a recipe

    # A step is part of its recipe: the recipe's permissions and status decide.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("orders.view_recipe")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("orders.change_recipe") and (obj is None or obj.recipe.is_editable)

    def save_model(self, request, obj, form, change):
        values = {k: form.cleaned_data[k] for k in STEP_FIELDS if k in form.cleaned_data}
        s.recipe_step_save(user=request.user, recipe_id=obj.recipe_id, step_id=obj.pk, **values)

    def save_formset(self, request, form, formset, change):
        step = form.instance
        service, fields, id_name, kind = {
            ProcessParameter: (s.recipe_parameter_save, PARAMETER_FIELDS, "parameter_id", "parameter"),
            StepCheck: (s.recipe_check_save, CHECK_FIELDS, "check_id", "check"),
        }[formset.model]
        _save_parts(request, formset, service, fields, id_name, kind, {"recipe_id": step.recipe_id, "step_id": step.pk})


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ServiceAdmin):
    list_display = ("trainee", "recipe", "sop_code", "trained_on", "valid_until", "recorded_by")
    list_filter = ("valid_until",)
    fields = ("trainee", "recipe", "sop_code", "trained_on", "valid_until", "trainer")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        created = s.training_record_create(user=request.user, **{k: form.cleaned_data.get(k) for k in self.fields})
        obj.pk, obj._state.adding = created.pk, False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Orders change only through their pages (workflow, signatures); the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProductionOrder)
class ProductionOrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "product", "planned_quantity", "unit", "line", "status", "planned_start")
    list_filter = ("status", "line")
    search_fields = ("number", "erp_reference")


admin.site.register(OrderApproval, ReadOnlyAdmin)
admin.site.register(OrderAmendment, ReadOnlyAdmin)
