"""Master batch record pages: list, detail, create/edit drafts, parts, actions, diff, QA queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mes.workflow import user_may
from orders.diff import recipe_diff
from orders.forms import (
    BOMLineForm,
    CheckForm,
    DiffForm,
    ParameterForm,
    RecipeFilterForm,
    RecipeForm,
    SignForm,
    StepForm,
)
from orders.models import RECIPE_INTERNAL, RECIPE_MACHINE, Recipe, RecipeStatus
from orders.services import (
    RECIPE_ACTIONS,
    recipe_bom_line_save,
    recipe_check_save,
    recipe_create,
    recipe_new_version,
    recipe_parameter_save,
    recipe_part_remove,
    recipe_step_save,
    recipe_update,
)
from orders.services.recipes import recipe_problems, recipe_with_parts
from orders.views.common import USER_ERRORS, form_errors, query_without_page

VIEW = "orders.view_recipe"
CHANGE = "orders.change_recipe"


@permission_required(VIEW, raise_exception=True)
def recipe_list(request):
    form = RecipeFilterForm(request.GET or None)
    qs = Recipe.objects.select_related("product", "author", "approved_by")
    if form.is_valid():
        if form.cleaned_data.get("product"):
            qs = qs.filter(product=form.cleaned_data["product"])
        if form.cleaned_data.get("status"):
            qs = qs.filter(status=form.cleaned_data["status"])
    page = Paginator(qs.order_by("product__code", "-version"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/recipe_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_create": request.user.has_perm("orders.add_recipe"),
        },
    )


@permission_required(VIEW, raise_exception=True)
def recipe_detail(request, pk: int):
    recipe = get_object_or_404(recipe_with_parts(), pk=pk)
    versions = list(Recipe.objects.filter(product_id=recipe.product_id, purpose=recipe.purpose).order_by("-version"))
    open_version = next((v for v in versions if v.status in ("draft", "in_review", "approved")), None)
    return render(
        request,
        "orders/recipe_detail.html",
        {
            "recipe": recipe,
            "machine": RECIPE_MACHINE,
            "internal": RECIPE_INTERNAL,
            "versions": versions,
            "diff_form": DiffForm(recipe=recipe) if len(versions) > 1 else None,
            "can_edit": recipe.is_editable and user_may(request.user, CHANGE),
            "can_copy": open_version is None and user_may(request.user, "orders.add_recipe"),
            "problems": recipe_problems(recipe) if recipe.status in ("draft", "in_review") else [],
            "order_count": recipe.orders.count(),
        },
    )


@permission_required("orders.add_recipe", raise_exception=True)
def recipe_create_view(request):
    form = RecipeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recipe = recipe_create(user=request.user, **form.cleaned_data)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Draft %(r)s created. Add its materials and steps.") % {"r": recipe})
            return redirect("orders:recipe_detail", pk=recipe.pk)
    return render(request, "orders/recipe_form.html", {"form": form, "recipe": None})


@permission_required(CHANGE, raise_exception=True)
def recipe_edit(request, pk: int):
    recipe = get_object_or_404(Recipe.objects.select_related("product"), pk=pk)
    if not recipe.is_editable:
        return _locked(request, recipe)
    form = RecipeForm(request.POST or None, instance=recipe, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            recipe_update(user=request.user, recipe_id=recipe.pk, **form.cleaned_data)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("orders:recipe_detail", pk=recipe.pk)
    return render(request, "orders/recipe_form.html", {"form": form, "recipe": recipe})


def _locked(request, recipe: Recipe):
    messages.error(
        request,
        _("Version %(v)s is %(s)s: only a draft can be edited. Copy it into a new version to change the process.")
        % {"v": recipe.version, "s": recipe.get_status_display().lower()},
    )
    return redirect("orders:recipe_detail", pk=recipe.pk)


@require_POST
@permission_required("orders.add_recipe", raise_exception=True)
def recipe_copy(request, pk: int):
    try:
        copy = recipe_new_version(user=request.user, recipe_id=pk)
    except USER_ERRORS as exc:
        for text in getattr(exc, "messages", [str(exc)]):
            messages.error(request, text)
        return redirect("orders:recipe_detail", pk=pk)
    messages.success(request, _("Version %(v)s created as a draft.") % {"v": copy.version})
    return redirect("orders:recipe_detail", pk=copy.pk)


# --- parts ---------------------------------------------------------------------------------------

PARTS = {
    # kind: (form, service, id keyword, title)
    "bom": (BOMLineForm, recipe_bom_line_save, "line_id"),
    "step": (StepForm, recipe_step_save, "step_id"),
    "check": (CheckForm, recipe_check_save, "check_id"),
    "parameter": (ParameterForm, recipe_parameter_save, "parameter_id"),
}
PART_TITLES = {
    "bom": _("Bill of materials line"),
    "step": _("Step"),
    "check": _("In-process check"),
    "parameter": _("Process parameter"),
}


@permission_required(CHANGE, raise_exception=True)
def recipe_part(request, pk: int, kind: str, part: int | None = None, step: int | None = None):
    """Add or change a BOM line, step, check or parameter of a draft."""
    if kind not in PARTS:
        raise Http404
    recipe = get_object_or_404(Recipe.objects.select_related("product"), pk=pk)
    if not recipe.is_editable:
        return _locked(request, recipe)
    form_class, service, id_name = PARTS[kind]
    instance = None
    if part is not None:
        instance = get_object_or_404(_part_queryset(recipe, kind), pk=part, removed=False)
    parent_step = get_object_or_404(recipe.steps, pk=step) if step is not None else None
    initial = _part_initial(recipe, kind, parent_step) if instance is None else None
    form = form_class(request.POST or None, instance=instance, initial=initial)
    if request.method == "POST" and form.is_valid():
        kwargs = {"user": request.user, "recipe_id": recipe.pk, id_name: part, **form.cleaned_data}
        if parent_step is not None:
            kwargs["step_id"] = parent_step.pk
        try:
            service(**kwargs)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("orders:recipe_detail", pk=recipe.pk)
    return render(
        request,
        "orders/recipe_part_form.html",
        {"form": form, "recipe": recipe, "title": PART_TITLES[kind], "step": parent_step, "editing": part is not None},
    )


def _part_queryset(recipe: Recipe, kind: str):
    model = PARTS[kind][0]._meta.model
    if kind in ("bom", "step"):
        return model.objects.filter(recipe=recipe)
    return model.objects.filter(step__recipe=recipe)


def _part_initial(recipe: Recipe, kind: str, step) -> dict:
    if kind == "bom":
        return {"position": len(recipe.active_bom()) + 1, "weigh_and_verify": True}
    if kind == "step":
        numbers = [s.number for s in recipe.active_steps()]
        return {"number": (max(numbers) if numbers else 0) + 10, "duration_minutes": 30, "performer_signature": True}
    if kind == "check" and step is not None:
        return {"number": len(step.active_checks()) + 1}
    return {}


@require_POST
@permission_required(CHANGE, raise_exception=True)
def recipe_part_remove_view(request, pk: int, kind: str, part: int):
    if kind not in PARTS:
        raise Http404
    try:
        recipe_part_remove(user=request.user, recipe_id=pk, kind=kind, part_id=part)
    except USER_ERRORS as exc:
        for text in getattr(exc, "messages", [str(exc)]):
            messages.error(request, text)
    else:
        messages.success(request, _("Removed from the draft."))
    return redirect("orders:recipe_detail", pk=pk)


# --- workflow ------------------------------------------------------------------------------------


def recipe_action(request, pk: int, action: str):
    """Confirm and take a recipe action (submit, return, approve, make effective, retire)."""
    if action not in RECIPE_ACTIONS:
        raise Http404
    recipe = get_object_or_404(recipe_with_parts(), pk=pk)
    transition = RECIPE_MACHINE.get(action)
    if not user_may(request.user, transition.permission, recipe):
        raise PermissionDenied
    if recipe.status not in transition.source:
        messages.error(
            request,
            _("“%(a)s” is not possible while the recipe is %(s)s.")
            % {"a": transition.label, "s": recipe.get_status_display().lower()},
        )
        return redirect("orders:recipe_detail", pk=recipe.pk)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kwargs = {"user": request.user, "recipe_id": recipe.pk, "reason": form.cleaned_data["reason"]}
        if transition.signature:
            kwargs["password"] = form.cleaned_data["password"]
        try:
            RECIPE_ACTIONS[action](**kwargs)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("%(a)s: done for %(r)s.") % {"a": transition.label, "r": recipe})
            return redirect("orders:recipe_detail", pk=recipe.pk)
    current = Recipe.objects.filter(
        product_id=recipe.product_id, purpose=recipe.purpose, status=RecipeStatus.EFFECTIVE
    ).exclude(pk=recipe.pk)
    return render(
        request,
        "orders/recipe_action.html",
        {
            "recipe": recipe,
            "transition": transition,
            "form": form,
            "problems": recipe_problems(recipe),
            "own": recipe.author_id == request.user.pk,
            "replaces": current.first(),
        },
    )


@permission_required(VIEW, raise_exception=True)
def recipe_diff_view(request, pk: int):
    recipe = get_object_or_404(recipe_with_parts(), pk=pk)
    form = DiffForm(request.GET or None, recipe=recipe)
    sections, other = [], None
    if form.is_valid():
        other = recipe_with_parts().get(pk=form.cleaned_data["other"].pk)
        old, new = (other, recipe) if other.version < recipe.version else (recipe, other)
        sections = recipe_diff(old, new)
    else:
        old = new = None
    return render(
        request,
        "orders/recipe_diff.html",
        {
            "recipe": recipe,
            "form": form,
            "sections": sections,
            "old": old,
            "new": new,
            "unchanged": bool(other) and not any(s.rows for s in sections),
        },
    )


@permission_required("orders.approve_recipe", raise_exception=True)
def recipe_review_queue(request):
    """QA's queue: versions waiting for review, and approved versions waiting to become effective."""
    qs = (
        Recipe.objects.select_related("product", "author")
        .filter(status__in=(RecipeStatus.IN_REVIEW, RecipeStatus.APPROVED))
        .order_by("status", "product__code")
    )
    return render(request, "orders/recipe_review_queue.html", {"recipes": qs})
