"""Declared access of every orders page: the roles that get the page (others get 403)."""

from mes.models import Line
from mes.registry import Rule
from orders.models import ProductionOrder, Recipe

ORDER_VIEWERS = frozenset({"planner", "supervisor", "qa", "qc", "warehouse", "analyst", "auditor"})
RECIPE_VIEWERS = frozenset({"planner", "supervisor", "qa", "operator", "qc", "analyst", "auditor"})
PLANNER = frozenset({"planner"})
SUPERVISOR = frozenset({"supervisor"})
QA = frozenset({"qa"})


def _order(status: str) -> int:
    return ProductionOrder.objects.filter(status=status).values_list("pk", flat=True).first()


def _recipe(status: str) -> int:
    return Recipe.objects.filter(status=status).values_list("pk", flat=True).first()


def _line() -> int:
    return Line.objects.order_by("pk").values_list("pk", flat=True).first()


def _draft_parts() -> dict:
    recipe = Recipe.objects.filter(status="draft", steps__parameters__removed=False).distinct().first()
    step = recipe.steps.filter(parameters__removed=False).distinct().first()
    return {
        "recipe": recipe.pk,
        "bom": recipe.bom_lines.filter(removed=False).first().pk,
        "step": step.pk,
        "parameter": step.parameters.filter(removed=False).first().pk,
    }


ACCESS = {
    "orders:order_list": Rule(ORDER_VIEWERS),
    "orders:order_create": Rule(PLANNER),
    "orders:approval_queue": Rule(SUPERVISOR),
    "orders:order_detail": Rule(ORDER_VIEWERS, make_kwargs=lambda data: {"pk": _order("released")}),
    "orders:order_edit": Rule(PLANNER, make_kwargs=lambda data: {"pk": _order("draft")}),
    "orders:order_review": Rule(SUPERVISOR, make_kwargs=lambda data: {"pk": _order("submitted")}),
    "orders:order_batches": Rule(SUPERVISOR, make_kwargs=lambda data: {"pk": _order("released")}),
    "orders:order_action": Rule(PLANNER, make_kwargs=lambda data: {"pk": _order("draft"), "action": "submit"}),
    "orders:recipe_list": Rule(RECIPE_VIEWERS),
    "orders:recipe_create": Rule(SUPERVISOR),
    "orders:recipe_review_queue": Rule(QA),
    "orders:recipe_detail": Rule(RECIPE_VIEWERS, make_kwargs=lambda data: {"pk": _recipe("effective")}),
    "orders:recipe_edit": Rule(SUPERVISOR, make_kwargs=lambda data: {"pk": _recipe("draft")}),
    "orders:recipe_copy": Rule(SUPERVISOR, method="post", make_kwargs=lambda data: {"pk": _recipe("effective")}),
    "orders:recipe_diff": Rule(RECIPE_VIEWERS, make_kwargs=lambda data: {"pk": _recipe("effective")}),
    "orders:recipe_action": Rule(QA, make_kwargs=lambda data: {"pk": _recipe("in_review"), "action": "approve"}),
    "orders:recipe_part_add": Rule(SUPERVISOR, make_kwargs=lambda data: {"pk": _recipe("draft"), "kind": "bom"}),
    "orders:recipe_part_edit": Rule(
        SUPERVISOR,
        make_kwargs=lambda data: (lambda p: {"pk": p["recipe"], "kind": "bom", "part": p["bom"]})(_draft_parts()),
    ),
    "orders:recipe_step_part_add": Rule(
        SUPERVISOR,
        make_kwargs=lambda data: (lambda p: {"pk": p["recipe"], "step": p["step"], "kind": "parameter"})(
            _draft_parts()
        ),
    ),
    "orders:recipe_step_part_edit": Rule(
        SUPERVISOR,
        make_kwargs=lambda data: (
            lambda p: {"pk": p["recipe"], "step": p["step"], "kind": "parameter", "part": p["parameter"]}
        )(_draft_parts()),
    ),
    "orders:recipe_part_remove": Rule(
        SUPERVISOR,
        method="post",
        make_kwargs=lambda data: (lambda p: {"pk": p["recipe"], "kind": "parameter", "part": p["parameter"]})(
            _draft_parts()
        ),
    ),
    "orders:training_list": Rule(frozenset({"supervisor", "qa", "auditor"})),
    "orders:training_create": Rule(frozenset({"supervisor", "qa"})),
    "orders:line_list": Rule(frozenset({"planner", "supervisor", "admin", "auditor"})),
    "orders:line_create": Rule(frozenset({"admin"})),
    "orders:line_edit": Rule(frozenset({"admin"}), make_kwargs=lambda data: {"pk": _line()}),
}
