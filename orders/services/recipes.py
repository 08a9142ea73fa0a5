"""Master batch record services: create, edit (drafts only), new version, review, approve, effective.

Every write to a recipe or one of its parts goes through here (pages and the Django admin alike),
so the status rules cannot be bypassed: only a draft is edited; an effective or superseded recipe
is copied into a new draft version; QA approval is by someone other than the author; one effective
version per product.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.signatures import signature_check_password
from materials.models import Material, MaterialType
from mes.generated import GeneratedText
from mes.units import dimension, unit_label
from mes.workflow import transition_apply, user_may
from orders.models import (
    RECIPE_MACHINE,
    CheckKind,
    ProcessParameter,
    Recipe,
    RecipeMaterial,
    RecipePurpose,
    RecipeStatus,
    RecipeStep,
    StepCheck,
)

COPIED_FROM = GeneratedText(gettext_noop("copied from version %(v)s"))
DRAFT_VERSION = GeneratedText(gettext_noop("draft version %(v)s"))
SUPERSEDED = GeneratedText(gettext_noop("superseded by version %(v)s"))

PRODUCT_TYPES = (MaterialType.FINISHED, MaterialType.INTERMEDIATE)
HEADER_FIELDS = ("title", "batch_size", "unit", "expected_yield", "yield_min", "yield_max", "description")
BOM_FIELDS = ("position", "material", "quantity", "unit", "tolerance_pct", "weigh_and_verify", "step_number")
STEP_FIELDS = (
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
)
CHECK_FIELDS = ("number", "kind", "question", "question_zh", "expected_answer", "unit", "lower_limit", "upper_limit")
PARAMETER_FIELDS = ("name", "name_zh", "unit", "target", "minimum", "maximum", "critical", "equipment_tag")


def recipe_with_parts(queryset=None):
    """Recipes with BOM (and materials), steps, checks and parameters in five queries."""
    qs = queryset if queryset is not None else Recipe.objects.all()
    return qs.select_related("product", "author", "approved_by").prefetch_related(
        Prefetch("bom_lines", queryset=RecipeMaterial.objects.select_related("material")),
        Prefetch("steps", queryset=RecipeStep.objects.select_related("equipment_class")),
        "steps__checks",
        "steps__parameters",
    )


def _require(user, permission: str) -> None:
    if not user_may(user, permission):
        raise PermissionDenied(_("You do not have permission to change master batch records."))


def _locked_draft(recipe_id: int) -> Recipe:
    recipe = Recipe.objects.select_for_update().select_related("product").get(pk=recipe_id)
    if recipe.status in (RecipeStatus.EFFECTIVE, RecipeStatus.SUPERSEDED):
        raise ValidationError(
            _("Version %(v)s is %(state)s and can never be edited. Copy it into a new draft version instead.")
            % {"v": recipe.version, "state": recipe.get_status_display().lower()}
        )
    if recipe.status != RecipeStatus.DRAFT:
        raise ValidationError(
            _("Only a draft can be edited; version %(v)s is %(state)s.")
            % {"v": recipe.version, "state": recipe.get_status_display().lower()}
        )
    return recipe


def _check_header(values: dict[str, Any]) -> None:
    errors = {}
    if values.get("batch_size") is not None and Decimal(values["batch_size"]) <= 0:
        errors["batch_size"] = _("The standard batch size must be greater than zero.")
    lo, exp, hi = (values.get(k) for k in ("yield_min", "expected_yield", "yield_max"))
    if None not in (lo, exp, hi) and not (Decimal(lo) <= Decimal(exp) <= Decimal(hi)):
        errors["expected_yield"] = _("The expected yield must lie between the lowest and highest acceptable yield.")
    if hi is not None and Decimal(hi) > 200:
        errors["yield_max"] = _("A yield above 200 % is not plausible.")
    if errors:
        raise ValidationError(errors)


def _check_product(product: Material) -> None:
    if product is None:
        raise ValidationError({"product": _("Choose the product this recipe makes.")})
    if product.type not in PRODUCT_TYPES:
        raise ValidationError(
            {
                "product": _("A recipe makes a finished product or an intermediate, not %(type)s.")
                % {"type": product.get_type_display().lower()}
            }
        )


def recipe_create(
    *,
    user,
    product: Material,
    title: str,
    batch_size,
    unit: str,
    expected_yield=98,
    yield_min=95,
    yield_max=100,
    description: str = "",
    purpose: str = RecipePurpose.STANDARD,
) -> Recipe:
    """Start the first (or next) draft version of a product's master batch record (production or rework)."""
    _require(user, "orders.add_recipe")
    _check_product(product)
    if purpose not in RecipePurpose.values:
        raise ValidationError({"purpose": _("Choose production or rework.")})
    values = {
        "title": title,
        "batch_size": batch_size,
        "unit": unit,
        "expected_yield": expected_yield,
        "yield_min": yield_min,
        "yield_max": yield_max,
        "description": description,
    }
    _check_header(values)
    if dimension(unit) != dimension(product.unit):
        raise ValidationError(
            {
                "unit": _("%(unit)s does not measure %(product)s (kept in %(pu)s).")
                % {"unit": unit_label(unit), "product": product.code, "pu": unit_label(product.unit)}
            }
        )
    with transaction.atomic():
        Material.objects.select_for_update().get(pk=product.pk)  # one version number at a time
        _refuse_second_open_version(product, purpose)
        version = (Recipe.objects.filter(product=product).aggregate(v=Max("version"))["v"] or 0) + 1
        with audit_context(actor=user, action="orders.recipe.create"):
            return Recipe.objects.create(product=product, version=version, author=user, purpose=purpose, **values)


def _refuse_second_open_version(product: Material, purpose: str = RecipePurpose.STANDARD) -> None:
    open_version = Recipe.objects.filter(
        product=product,
        purpose=purpose,
        status__in=(RecipeStatus.DRAFT, RecipeStatus.IN_REVIEW, RecipeStatus.APPROVED),
    ).first()
    if open_version is not None:
        raise ValidationError(
            _("Version %(v)s of %(product)s is still %(state)s. Finish or retire it before starting another.")
            % {"v": open_version.version, "product": product.code, "state": open_version.get_status_display().lower()}
        )


def recipe_update(*, user, recipe_id: int, **values) -> Recipe:
    """Change the header of a draft recipe."""
    _require(user, "orders.change_recipe")
    unknown = set(values) - set(HEADER_FIELDS)
    if unknown:
        raise ValueError(f"not recipe header fields: {sorted(unknown)}")
    with transaction.atomic():
        recipe = _locked_draft(recipe_id)
        merged = {k: values.get(k, getattr(recipe, k)) for k in HEADER_FIELDS}
        _check_header(merged)
        if dimension(merged["unit"]) != dimension(recipe.product.unit):
            raise ValidationError(
                {
                    "unit": _("%(unit)s does not measure %(product)s (kept in %(pu)s).")
                    % {"unit": merged["unit"], "product": recipe.product.code, "pu": recipe.product.unit}
                }
            )
        for k, v in values.items():
            setattr(recipe, k, v)
        with audit_context(actor=user, action="orders.recipe.update"):
            recipe.save()
        return recipe


def recipe_new_version(*, user, recipe_id: int) -> Recipe:
    """Copy a recipe (any status) with all its parts into a new draft version."""
    _require(user, "orders.add_recipe")
    with transaction.atomic():
        source = recipe_with_parts().get(pk=recipe_id)
        Material.objects.select_for_update().get(pk=source.product_id)
        _refuse_second_open_version(source.product, source.purpose)
        version = (Recipe.objects.filter(product_id=source.product_id).aggregate(v=Max("version"))["v"] or 0) + 1
        with audit_context(
            actor=user,
            action="orders.recipe.new_version",
            reason=COPIED_FROM % {"v": source.version},
        ):
            copy = Recipe.objects.create(
                product=source.product,
                version=version,
                author=user,
                based_on=source,
                purpose=source.purpose,
                **{k: getattr(source, k) for k in HEADER_FIELDS},
            )
            for line in source.active_bom():
                RecipeMaterial.objects.create(recipe=copy, **{k: getattr(line, k) for k in BOM_FIELDS})
            for step in source.active_steps():
                new_step = RecipeStep.objects.create(recipe=copy, **{k: getattr(step, k) for k in STEP_FIELDS})
                for check in step.active_checks():
                    StepCheck.objects.create(step=new_step, **{k: getattr(check, k) for k in CHECK_FIELDS})
                for param in step.active_parameters():
                    ProcessParameter.objects.create(step=new_step, **{k: getattr(param, k) for k in PARAMETER_FIELDS})
        return copy


# --- parts of a draft ---------------------------------------------------------------------------


def _save_part(*, user, recipe: Recipe, model, instance, values: dict, allowed: tuple, action: str, parent: dict):
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    if instance is None:
        instance = model(**parent)
    elif instance.removed:
        raise ValidationError(_("This line was removed from the draft."))
    for k, v in values.items():
        setattr(instance, k, v)
    instance.full_clean(exclude=[*parent])
    with audit_context(actor=user, action=action, reason=DRAFT_VERSION % {"v": recipe.version}):
        instance.save()
    return instance


def recipe_bom_line_save(*, user, recipe_id: int, line_id: int | None = None, **values) -> RecipeMaterial:
    """Add or change a bill-of-materials line of a draft recipe."""
    _require(user, "orders.change_recipe")
    with transaction.atomic():
        recipe = _locked_draft(recipe_id)
        material = values.get("material")
        if material is not None:
            if material.pk == recipe.product_id and recipe.purpose != RecipePurpose.REWORK:
                raise ValidationError({"material": _("A product cannot be an ingredient of itself.")})
            if not material.active:
                raise ValidationError({"material": _("%(code)s is not active.") % {"code": material.code}})
            unit = values.get("unit") or material.unit
            if dimension(unit) != dimension(material.unit):
                raise ValidationError(
                    {
                        "unit": _("%(unit)s does not measure %(code)s (kept in %(mu)s).")
                        % {"unit": unit_label(unit), "code": material.code, "mu": unit_label(material.unit)}
                    }
                )
        instance = recipe.bom_lines.select_for_update().get(pk=line_id) if line_id else None
        return _save_part(
            user=user,
            recipe=recipe,
            model=RecipeMaterial,
            instance=instance,
            values=values,
            allowed=BOM_FIELDS,
            action="orders.recipe.bom_save",
            parent={"recipe": recipe},
        )


def recipe_step_save(*, user, recipe_id: int, step_id: int | None = None, **values) -> RecipeStep:
    """Add or change a step of a draft recipe."""
    _require(user, "orders.change_recipe")
    with transaction.atomic():
        recipe = _locked_draft(recipe_id)
        number = values.get("number")
        if number is not None:
            clash = recipe.steps.filter(number=number, removed=False).exclude(pk=step_id).exists()
            if clash:
                raise ValidationError({"number": _("Step %(n)s already exists in this version.") % {"n": number}})
        instance = recipe.steps.select_for_update().get(pk=step_id) if step_id else None
        return _save_part(
            user=user,
            recipe=recipe,
            model=RecipeStep,
            instance=instance,
            values=values,
            allowed=STEP_FIELDS,
            action="orders.recipe.step_save",
            parent={"recipe": recipe},
        )


def _check_limits(lo, hi, target=None, field="minimum") -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ValidationError({field: _("The lower limit is above the upper limit.")})
    if target is not None and ((lo is not None and target < lo) or (hi is not None and target > hi)):
        raise ValidationError({"target": _("The target lies outside its own limits.")})


def recipe_check_save(*, user, recipe_id: int, step_id: int, check_id: int | None = None, **values) -> StepCheck:
    """Add or change an in-process check of a step of a draft recipe."""
    _require(user, "orders.change_recipe")
    with transaction.atomic():
        recipe = _locked_draft(recipe_id)
        step = recipe.steps.get(pk=step_id, removed=False)
        instance = step.checks.select_for_update().get(pk=check_id) if check_id else None
        merged = {k: values.get(k, getattr(instance, k, None)) for k in CHECK_FIELDS}
        if merged["kind"] == CheckKind.MEASURED:
            if merged["lower_limit"] is None and merged["upper_limit"] is None:
                raise ValidationError({"lower_limit": _("A measured check needs at least one limit.")})
            _check_limits(merged["lower_limit"], merged["upper_limit"], field="lower_limit")
        elif not (merged["expected_answer"] or "").strip():
            raise ValidationError({"expected_answer": _("A question needs the expected answer.")})
        return _save_part(
            user=user,
            recipe=recipe,
            model=StepCheck,
            instance=instance,
            values=values,
            allowed=CHECK_FIELDS,
            action="orders.recipe.check_save",
            parent={"step": step},
        )


def recipe_parameter_save(
    *, user, recipe_id: int, step_id: int, parameter_id: int | None = None, **values
) -> ProcessParameter:
    """Add or change a process parameter of a step of a draft recipe."""
    _require(user, "orders.change_recipe")
    with transaction.atomic():
        recipe = _locked_draft(recipe_id)
        step = recipe.steps.get(pk=step_id, removed=False)
        instance = step.parameters.select_for_update().get(pk=parameter_id) if parameter_id else None
        merged = {k: values.get(k, getattr(instance, k, None)) for k in PARAMETER_FIELDS}
        _check_limits(merged["minimum"], merged["maximum"], merged["target"])
        if merged["critical"] and (merged["minimum"] is None or merged["maximum"] is None):
            raise ValidationError({"minimum": _("A critical parameter needs both a minimum and a maximum.")})
        return _save_part(
            user=user,
            recipe=recipe,
            model=ProcessParameter,
            instance=instance,
            values=values,
            allowed=PARAMETER_FIELDS,
            action="orders.recipe.parameter_save",
            parent={"step": step},
        )


PART_MODELS = {"bom": RecipeMaterial, "step": RecipeStep, "check": StepCheck, "parameter": ProcessParameter}


def recipe_part_remove(*, user, recipe_id: int, kind: str, part_id: int, reason: str = "") -> None:
    """Take a BOM line, step, check or parameter out of a draft (flagged as removed, never deleted)."""
    _require(user, "orders.change_recipe")
    model = PART_MODELS[kind]
    with transaction.atomic():
        recipe = _locked_draft(recipe_id)
        part = model.objects.select_for_update().get(pk=part_id)
        owner = part.recipe_id if hasattr(part, "recipe_id") else part.step.recipe_id
        if owner != recipe.pk:
            raise ValidationError(_("That line does not belong to this recipe."))
        part.removed = True
        with audit_context(actor=user, action=f"orders.recipe.{kind}_remove", reason=reason):
            part.save()


# --- review, approval, effectiveness --------------------------------------------------------------


def recipe_problems(recipe: Recipe) -> list[str]:
    """What keeps a recipe from being submitted or approved, in words (empty when complete)."""
    problems = []
    bom, steps = recipe.active_bom(), recipe.active_steps()
    if not bom:
        problems.append(_("The bill of materials is empty."))
    if not steps:
        problems.append(_("The recipe has no steps."))
    if recipe.purpose == RecipePurpose.REWORK and not any(line.material_id == recipe.product_id for line in bom):
        problems.append(
            _("A rework record takes the nonconforming lot back in: list %(code)s itself in its materials.")
            % {"code": recipe.product.code}
        )
    for line in bom:
        if not line.material.active:
            problems.append(_("Material %(code)s is no longer active.") % {"code": line.material.code})
    for step in steps:
        for p in step.active_parameters():
            if p.critical and (p.minimum is None or p.maximum is None):
                problems.append(
                    _("Step %(n)s: critical parameter “%(p)s” has no limits.") % {"n": step.number, "p": p.name}
                )
    return problems


def _complete_guard(recipe: Recipe) -> None:
    problems = recipe_problems(recipe_with_parts().get(pk=recipe.pk))
    if problems:
        raise ValidationError(problems)


def recipe_submit(*, user, recipe_id: int, password: str, reason: str = "") -> Recipe:
    """The author signs the draft (meaning: authored) and sends it to QA."""
    return transition_apply(
        model=Recipe,
        pk=recipe_id,
        machine=RECIPE_MACHINE,
        name="submit",
        user=user,
        password=password,
        reason=reason,
        guard=_complete_guard,
    )


def recipe_return(*, user, recipe_id: int, reason: str) -> Recipe:
    """QA sends a recipe in review back to its author with the reason."""
    return transition_apply(model=Recipe, pk=recipe_id, machine=RECIPE_MACHINE, name="return", user=user, reason=reason)


def recipe_approve(*, user, recipe_id: int, password: str, reason: str = "") -> Recipe:
    """QA approves (signed); never the author of the recipe."""

    def guard(recipe: Recipe) -> None:
        if recipe.author_id == user.pk:
            raise ValidationError(_("You wrote this recipe; QA approval must come from someone else."))
        _complete_guard(recipe)

    return transition_apply(
        model=Recipe,
        pk=recipe_id,
        machine=RECIPE_MACHINE,
        name="approve",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
        changes={"approved_by": user},
    )


def recipe_make_effective(*, user, recipe_id: int, password: str, reason: str = "") -> Recipe:
    """Make an approved version effective; the product's previous effective version is superseded."""
    signature_check_password(user=user, password=password, purpose="orders.recipe.make_effective")
    with transaction.atomic():
        recipe = Recipe.objects.get(pk=recipe_id)
        # Lock the product's versions so two versions can never become effective together.
        versions = list(
            Recipe.objects.select_for_update()
            .filter(product_id=recipe.product_id, purpose=recipe.purpose)
            .order_by("pk")
        )
        for previous in versions:
            if previous.status == RecipeStatus.EFFECTIVE and previous.pk != recipe.pk and recipe.status == "approved":
                transition_apply(
                    model=Recipe,
                    pk=previous.pk,
                    machine=RECIPE_MACHINE,
                    name="supersede",
                    user=user,
                    reason=SUPERSEDED % {"v": recipe.version},
                )
        return transition_apply(
            model=Recipe,
            pk=recipe_id,
            machine=RECIPE_MACHINE,
            name="make_effective",
            user=user,
            password=password,
            reason=reason,
            changes={"effective_at": timezone.now()},
        )


def recipe_retire(*, user, recipe_id: int, password: str, reason: str) -> Recipe:
    """Withdraw a version from use (signed, with the reason)."""
    return transition_apply(
        model=Recipe, pk=recipe_id, machine=RECIPE_MACHINE, name="retire", user=user, password=password, reason=reason
    )


RECIPE_ACTIONS = {
    "submit": recipe_submit,
    "return": recipe_return,
    "approve": recipe_approve,
    "make_effective": recipe_make_effective,
    "retire": recipe_retire,
}


def effective_recipe(product: Material, purpose: str = RecipePurpose.STANDARD) -> Recipe | None:
    """The product's effective production (or rework) master batch record."""
    return Recipe.objects.filter(product=product, purpose=purpose, status=RecipeStatus.EFFECTIVE).first()
