"""Production order services: create (by hand or from the ERP plan), change, the lifecycle, batches.

Rules kept here, not in pages: the recipe version is the effective one at creation and never
changes afterwards; the approver is never the author; approval and release check the resources
and say what is missing; a change after approval sends the order back for approval and every
change after submission keeps its record (ORD-3); a released order is never edited.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.context import audit_context
from audit.models import Signature
from audit.services import object_label
from materials.models import Material
from mes.models import Line
from mes.units import convert, dimension, quantity_text, unit_label
from mes.workflow import transition_apply, user_may
from orders.batching import batch_make
from orders.events import order_completed, order_released
from orders.models import (
    ORDER_MACHINE,
    ApprovalDecision,
    OrderAmendment,
    OrderApproval,
    OrderNumberSequence,
    OrderStatus,
    Priority,
    ProductionOrder,
    RecipeStatus,
    TrainingRecord,
    jsonable_changes,
)
from orders.services.recipes import PRODUCT_TYPES, effective_recipe, recipe_with_parts

EDITABLE_FIELDS = (
    "planned_quantity",
    "unit",
    "planned_start",
    "planned_end",
    "line",
    "priority",
    "operators_required",
    "resource_notes",
)
MAX_BATCHES_AT_ONCE = 50


# --- creation -------------------------------------------------------------------------------------


def _next_number(now: dt.datetime) -> str:
    """PO-<year>-<5 digits>, taken under a row lock so two planners never get the same number."""
    seq, _created = OrderNumberSequence.objects.select_for_update().get_or_create(year=now.year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"PO-{now.year}-{seq.last:05d}"


def _validate_plan(values: dict[str, Any]) -> dict[str, str]:
    """Field errors for quantities, units, dates and line (shared by create and change)."""
    errors: dict[str, str] = {}
    qty = values.get("planned_quantity")
    if qty is None or Decimal(str(qty)) <= 0:
        errors["planned_quantity"] = _("The planned quantity must be greater than zero.")
    start, end = values.get("planned_start"), values.get("planned_end")
    if start is None or end is None:
        errors["planned_end"] = _("Give the planned start and end.")
    elif end <= start:
        errors["planned_end"] = _("The planned end must be after the planned start.")
    line = values.get("line")
    if line is None:
        errors["line"] = _("Choose the production line.")
    elif not line.active:
        errors["line"] = _("Line %(code)s is not active.") % {"code": line.code}
    product, unit = values.get("product"), values.get("unit")
    if product is not None and unit and dimension(unit) != dimension(product.unit):
        errors["unit"] = _("%(unit)s does not measure %(product)s (kept in %(pu)s).") % {
            "unit": unit,
            "product": product.code,
            "pu": product.unit,
        }
    if values.get("priority") not in Priority.values:
        errors["priority"] = _("Choose a priority.")
    return errors


def order_create(
    *,
    user,
    product: Material | None,
    planned_quantity,
    unit: str,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    line: Line | None,
    priority: int = Priority.NORMAL,
    erp_reference: str = "",
    operators_required: int = 2,
    resource_notes: str = "",
) -> ProductionOrder:
    """Create a draft order for a product with its effective recipe version (ORD-1, ORD-4)."""
    if not user_may(user, "orders.add_productionorder"):
        raise PermissionDenied(_("You do not have permission to create production orders."))
    erp_reference = (erp_reference or "").strip()
    values = {
        "product": product,
        "planned_quantity": planned_quantity,
        "unit": unit or (product and product.unit),
        "planned_start": planned_start,
        "planned_end": planned_end,
        "line": line,
        "priority": priority,
        "operators_required": operators_required,
        "resource_notes": resource_notes,
    }
    errors = _validate_plan(values)
    recipe = None
    if product is None:
        errors["product"] = _("Unknown product.")
    elif product.type not in PRODUCT_TYPES or not product.active:
        errors["product"] = _("%(code)s is not an active product that can be made.") % {"code": product.code}
    else:
        recipe = effective_recipe(product)
        if recipe is None:
            errors["product"] = _(
                "%(code)s has no effective master batch record; QA must make one effective before it can be ordered."
            ) % {"code": product.code}
    if erp_reference and ProductionOrder.objects.filter(erp_reference=erp_reference).exists():
        errors["erp_reference"] = _duplicate_erp(erp_reference)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            with audit_context(actor=user, action="orders.productionorder.create"):
                return ProductionOrder.objects.create(
                    number=_next_number(timezone.now()),
                    recipe=recipe,
                    erp_reference=erp_reference,
                    created_by=user,
                    **values,
                )
    except IntegrityError:
        if erp_reference and ProductionOrder.objects.filter(erp_reference=erp_reference).exists():
            raise ValidationError({"erp_reference": _duplicate_erp(erp_reference)}) from None
        raise


def _duplicate_erp(reference: str) -> str:
    existing = ProductionOrder.objects.filter(erp_reference=reference).values_list("number", flat=True).first()
    return _("ERP reference %(ref)s is already used by order %(number)s.") % {"ref": reference, "number": existing}


def order_create_from_plan(
    *,
    user,
    erp_reference: str,
    product_code: str,
    planned_quantity,
    unit: str,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    line_code: str,
    priority: int = Priority.NORMAL,
) -> tuple[ProductionOrder, bool]:
    """Create an order from a production plan line; the same ERP reference twice gives one order.

    Returns (order, created). Used by the ERP integration; safe to call again after a retry.
    """
    erp_reference = (erp_reference or "").strip()
    if not erp_reference:
        raise ValidationError({"erp_reference": _("A plan line needs its ERP reference.")})
    existing = ProductionOrder.objects.filter(erp_reference=erp_reference).first()
    if existing is not None:
        return existing, False
    product = Material.objects.filter(code=product_code).first()
    line = Line.objects.filter(code=line_code).first()
    if line is None:
        raise ValidationError({"line": _("Unknown production line %(code)s.") % {"code": line_code}})
    try:
        order = order_create(
            user=user,
            product=product,
            planned_quantity=planned_quantity,
            unit=unit,
            planned_start=planned_start,
            planned_end=planned_end,
            line=line,
            priority=priority,
            erp_reference=erp_reference,
        )
    except ValidationError as exc:
        # Another worker created it between our look-up and our insert: that one is the order.
        existing = ProductionOrder.objects.filter(erp_reference=erp_reference).first()
        if existing is not None:
            return existing, False
        if product is None and hasattr(exc, "error_dict"):
            raise ValidationError({"product": _("Unknown product %(code)s.") % {"code": product_code}}) from None
        raise
    return order, True


# --- change --------------------------------------------------------------------------------------


def order_update(*, user, order_id: int, reason: str = "", **values) -> ProductionOrder:
    """Change a draft or approved order. An approved order goes back for approval (ORD-3)."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable order fields: {sorted(unknown)}")
    if not user_may(user, "orders.change_productionorder"):
        raise PermissionDenied(_("You do not have permission to change production orders."))
    reason = (reason or "").strip()
    with transaction.atomic():
        order = ProductionOrder.objects.select_for_update().select_related("product", "line").get(pk=order_id)
        _refuse_edit_in_state(order)
        if values.get("planned_quantity") is not None:
            # Same scale as stored, so 400 and 400.000 are not a change.
            values["planned_quantity"] = Decimal(str(values["planned_quantity"])).quantize(Decimal("0.001"))
        merged = {k: values.get(k, getattr(order, k)) for k in EDITABLE_FIELDS}
        errors = _validate_plan({**merged, "product": order.product})
        if errors:
            raise ValidationError(errors)
        old = {k: getattr(order, k) for k in EDITABLE_FIELDS}
        changes = jsonable_changes(_ids(old), _ids(merged))
        if not changes:
            raise ValidationError(_("Nothing was changed."))
        was_submitted = order.submitted_by_id is not None
        if was_submitted and not reason:
            raise ValidationError({"reason": _("This order was already submitted: give the reason for the change.")})
        revision = order.revision + 1 if was_submitted else order.revision
        if order.status == OrderStatus.APPROVED:

            def record(obj):
                _amendment(obj, user, reason, changes)

            return transition_apply(
                model=ProductionOrder,
                pk=order.pk,
                machine=ORDER_MACHINE,
                name="amend",
                user=user,
                reason=reason,
                changes={**values, "revision": revision},
                after=record,
            )
        for k, v in values.items():
            setattr(order, k, v)
        order.revision = revision
        with audit_context(actor=user, action="orders.productionorder.update", reason=reason):
            order.save()
            if was_submitted:
                _amendment(order, user, reason, changes)
        return order


def _ids(values: dict) -> dict:
    """Plain values for the change record; a line is recorded by its code, which people read."""
    return {k: (getattr(v, "code", v.pk) if hasattr(v, "pk") else v) for k, v in values.items()}


def _amendment(order: ProductionOrder, user, reason: str, changes: dict) -> None:
    OrderAmendment.objects.create(order=order, revision=order.revision, changed_by=user, reason=reason, changes=changes)


def _refuse_edit_in_state(order: ProductionOrder) -> None:
    if order.status in (OrderStatus.DRAFT, OrderStatus.APPROVED):
        return
    if order.status == OrderStatus.SUBMITTED:
        raise ValidationError(
            _("Order %(n)s is waiting for approval; the reviewer must return it before it can be changed.")
            % {"n": order.number}
        )
    if order.status == OrderStatus.RETURNED:
        raise ValidationError(_("Order %(n)s was returned; choose “Rework” to change it.") % {"n": order.number})
    if order.status in (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        raise ValidationError(
            _("Order %(n)s is released to the shop floor and can no longer be changed.") % {"n": order.number}
        )
    raise ValidationError(
        _("Order %(n)s is %(state)s and can no longer be changed.")
        % {"n": order.number, "state": order.get_status_display().lower()}
    )


# --- resource check ------------------------------------------------------------------------------


def order_problems(order: ProductionOrder) -> list[str]:
    """What blocks approval or release, in words: line, recipe, materials (empty when all is there)."""
    problems: list[str] = []
    line = order.line
    if not line.active:
        problems.append(_("Line %(code)s is not active.") % {"code": line.code})
    recipe = recipe_with_parts().get(pk=order.recipe_id)
    if recipe.status != RecipeStatus.EFFECTIVE:
        problems.append(
            _(
                "Master batch record %(r)s is %(state)s, not effective. Cancel this order and create a "
                "new one with the current version."
            )
            % {"r": recipe, "state": recipe.get_status_display()}
        )
    if recipe.purpose != "standard":
        problems.append(
            _("Master batch record %(r)s is for rework: an order is made with a production one.") % {"r": recipe}
        )
    if recipe.product_id != order.product_id:
        problems.append(_("Master batch record %(r)s does not make %(p)s.") % {"r": recipe, "p": order.product.code})
    for bom in recipe.active_bom():
        if not bom.material.active:
            problems.append(
                _("Material %(code)s in the bill of materials is not active.") % {"code": bom.material.code}
            )
    if dimension(order.unit) != dimension(recipe.unit):
        problems.append(
            _("The order is in %(u)s but the recipe in %(r)s; they cannot be converted.")
            % {"u": unit_label(order.unit), "r": unit_label(recipe.unit)}
        )
    return problems


def order_warnings(order: ProductionOrder) -> list[str]:
    """Things the approver should know that do not block approval (people, dates)."""
    warnings: list[str] = []
    today = timezone.localdate()
    trained = (
        TrainingRecord.objects.filter(
            recipe_id=order.recipe_id, valid_until__gte=today, trainee__is_active=True, trainee__groups__name="operator"
        )
        .values("trainee")
        .distinct()
        .count()
    )
    if trained < order.operators_required:
        warnings.append(
            _("Only %(n)s operator(s) are trained on %(r)s; the order needs %(need)s.")
            % {"n": trained, "r": order.recipe, "need": order.operators_required}
        )
    if order.planned_start < timezone.now():
        warnings.append(_("The planned start is in the past."))
    return warnings


def _resources_guard(order: ProductionOrder) -> None:
    problems = order_problems(order)
    if problems:
        raise ValidationError(problems)


# --- lifecycle -----------------------------------------------------------------------------------


def _apply(order_id: int, name: str, user, **kwargs) -> ProductionOrder:
    return transition_apply(model=ProductionOrder, pk=order_id, machine=ORDER_MACHINE, name=name, user=user, **kwargs)


def order_submit(*, user, order_id: int, password: str, reason: str = "") -> ProductionOrder:
    """The planner signs the order (authored) and sends it for approval."""
    return _apply(order_id, "submit", user, password=password, reason=reason, changes={"submitted_by": user})


def _authors(order: ProductionOrder) -> set[int]:
    ids = {order.created_by_id, order.submitted_by_id}
    ids.update(order.amendments.filter(revision=order.revision).values_list("changed_by_id", flat=True))
    return ids


def _decision(order: ProductionOrder, user, decision: str, reason: str) -> None:
    signature = Signature.objects.filter(object_type=object_label(order), object_id=str(order.pk)).order_by("-pk")
    OrderApproval.objects.create(
        order=order,
        revision=order.revision,
        decision=decision,
        decided_by=user,
        reason=reason,
        signature=signature.first(),
    )


def order_approve(*, user, order_id: int, password: str, reason: str = "") -> ProductionOrder:
    """Approve a submitted order (signed). Never by its author; the resources must be there (ORD-2)."""

    def guard(order: ProductionOrder) -> None:
        if user.pk in _authors(order):
            raise ValidationError(_("You created or changed this order; its approval must come from someone else."))
        _resources_guard(order)

    return _apply(
        order_id,
        "approve",
        user,
        password=password,
        reason=reason,
        guard=guard,
        after=lambda o: _decision(o, user, ApprovalDecision.APPROVED, reason),
    )


def order_return(*, user, order_id: int, password: str, reason: str) -> ProductionOrder:
    """Send a submitted order back to the planner for change, with the reason (signed)."""
    return _apply(
        order_id,
        "return",
        user,
        password=password,
        reason=reason,
        after=lambda o: _decision(o, user, ApprovalDecision.RETURNED, (reason or "").strip()),
    )


def order_rework(*, user, order_id: int, reason: str = "") -> ProductionOrder:
    """Take a returned order back into draft to change it."""
    return _apply(order_id, "rework", user, reason=reason)


def order_release(*, user, order_id: int, password: str, reason: str = "") -> ProductionOrder:
    """Release an approved order to the shop floor (signed); resources are checked again."""
    return _apply(
        order_id,
        "release",
        user,
        password=password,
        reason=reason,
        guard=_resources_guard,
        after=_announce_released,
    )


def order_start(*, user, order_id: int, reason: str = "") -> ProductionOrder:
    """Mark a released order as in progress (batch execution calls this when the first batch starts)."""
    return _apply(order_id, "start", user, reason=reason)


def order_complete(*, user, order_id: int, password: str, reason: str = "") -> ProductionOrder:
    """Production of the order is finished (signed)."""
    return _apply(order_id, "complete", user, password=password, reason=reason, after=_announce_completed)


# --- domain events (mes.events), announced in the transition's transaction --------------------------
def _announce_released(order: ProductionOrder) -> None:
    order_released.announce(order=order)  # e.g. the WMS learns the material requirements (outbox)


def _announce_completed(order: ProductionOrder) -> None:
    order_completed.announce(order=order)  # e.g. the ERP learns of the completion (outbox)


def order_close(*, user, order_id: int, password: str, reason: str = "") -> ProductionOrder:
    """Close a completed order (signed)."""
    return _apply(order_id, "close", user, password=password, reason=reason)


def order_cancel(*, user, order_id: int, password: str, reason: str) -> ProductionOrder:
    """Cancel a draft or approved order (signed, with the reason)."""
    return _apply(order_id, "cancel", user, password=password, reason=reason)


ORDER_ACTIONS = {
    "submit": order_submit,
    "approve": order_approve,
    "return": order_return,
    "rework": order_rework,
    "release": order_release,
    "start": order_start,
    "complete": order_complete,
    "close": order_close,
    "cancel": order_cancel,
}


# --- batches -------------------------------------------------------------------------------------


def _quantum(unit: str) -> Decimal:
    return Decimal("1") if unit == "pcs" else Decimal("0.001")


def batch_split(total: Decimal, count: int, unit: str) -> list[Decimal]:
    """Split `total` into `count` nearly equal sizes; the last one takes the rounding remainder."""
    q = _quantum(unit)
    each = (total / count).quantize(q, rounding=ROUND_DOWN)
    sizes = [each] * (count - 1)
    sizes.append(total - each * (count - 1))
    return sizes


def order_remaining_quantity(order: ProductionOrder) -> Decimal:
    planned = order.batches.aggregate(s=Sum("planned_quantity"))["s"] or Decimal(0)
    return order.planned_quantity - planned


def order_create_batches(*, user, order_id: int, count: int, operators) -> list:
    """Create `count` batches for the rest of a released order's quantity, with operators (ORD-6)."""
    if not user_may(user, "orders.create_batches_productionorder"):
        raise PermissionDenied(_("You do not have permission to create batches."))
    operators = list(operators)
    with transaction.atomic():
        order = ProductionOrder.objects.select_for_update().select_related("recipe", "product", "line").get(pk=order_id)
        if order.status not in (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS):
            raise ValidationError(
                _("Batches are created only from a released order; %(n)s is %(state)s.")
                % {"n": order.number, "state": order.get_status_display().lower()}
            )
        sizes = _batch_sizes(order, count)
        _check_operators(operators)
        first = order.batches.count() + 1
        prefix = order.number.replace("PO-", "B", 1)
        return [
            batch_make(
                user=user,
                order=order,
                sequence=first + i,
                number=f"{prefix}-{first + i:02d}",
                quantity=size,
                operators=operators,
            )
            for i, size in enumerate(sizes)
        ]


def _batch_sizes(order: ProductionOrder, count: int) -> list[Decimal]:
    if not isinstance(count, int) or count < 1 or count > MAX_BATCHES_AT_ONCE:
        raise ValidationError(
            {"count": _("Create between 1 and %(max)s batches at a time.") % {"max": MAX_BATCHES_AT_ONCE}}
        )
    remaining = order_remaining_quantity(order)
    if remaining <= 0:
        raise ValidationError(_("The whole planned quantity of %(n)s is already in batches.") % {"n": order.number})
    sizes = batch_split(remaining, count, order.unit)
    if min(sizes) <= 0:
        raise ValidationError({"count": _("%(count)s batches would leave some of them empty.") % {"count": count}})
    standard = convert(order.recipe.batch_size, order.recipe.unit, order.unit)
    if max(sizes) > standard:
        needed = int((remaining / standard).to_integral_value(rounding=ROUND_CEILING))
        raise ValidationError(
            {
                "count": ngettext(
                    "Each batch would hold %(size)s %(unit)s, more than the validated batch "
                    "size of %(std)s %(unit)s. Create at least %(needed)s batch.",
                    "Each batch would hold %(size)s %(unit)s, more than the validated batch "
                    "size of %(std)s %(unit)s. Create at least %(needed)s batches.",
                    needed,
                )
                % {
                    "size": quantity_text(max(sizes)),
                    "unit": unit_label(order.unit),
                    "std": quantity_text(standard),
                    "needed": needed,
                }
            }
        )
    return sizes


def _check_operators(operators) -> None:
    if not operators:
        raise ValidationError({"operators": _("Assign at least one operator.")})
    user_model = get_user_model()
    valid = set(
        user_model.objects.filter(
            pk__in=[u.pk for u in operators], is_active=True, groups__name="operator"
        ).values_list("pk", flat=True)
    )
    wrong = [u.get_username() for u in operators if u.pk not in valid]
    if wrong:
        raise ValidationError(
            {"operators": _("%(names)s cannot run batches (not an active operator).") % {"names": ", ".join(wrong)}}
        )


def default_batch_count(order: ProductionOrder) -> int:
    """How many batches of the validated size the rest of the order needs (at least one)."""
    remaining = order_remaining_quantity(order)
    if remaining <= 0:
        return 1
    standard = convert(order.recipe.batch_size, order.recipe.unit, order.unit)
    return max(1, int(-(-remaining // standard)))
