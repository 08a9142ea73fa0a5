"""Production order pages: list, create, edit, detail, actions, approval queue and review, batches."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.selectors import record_events
from mes.workflow import object_permission_holders, user_may
from orders.forms import BatchCreateForm, OrderFilterForm, OrderForm, SignForm
from orders.models import ORDER_INTERNAL, ORDER_MACHINE, OrderStatus, ProductionOrder, RecipeStep
from orders.services import (
    ORDER_ACTIONS,
    order_approve,
    order_create,
    order_create_batches,
    order_problems,
    order_return,
    order_update,
    order_warnings,
)
from orders.services.orders import EDITABLE_FIELDS, default_batch_count, order_remaining_quantity
from orders.views.common import USER_ERRORS, form_errors, query_without_page

VIEW = "orders.view_productionorder"
PAGE_SIZE = 25


def order_queryset():
    return ProductionOrder.objects.select_related("product", "line", "recipe")


def required_equipment(order: ProductionOrder) -> list:
    """The equipment classes the order's recipe steps need (ORD-5), in step order, once each."""
    steps = RecipeStep.objects.filter(recipe_id=order.recipe_id, removed=False, equipment_class__isnull=False)
    seen: dict = {}
    for step in steps.select_related("equipment_class").order_by("number"):
        seen.setdefault(step.equipment_class_id, step.equipment_class)
    return list(seen.values())


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filter_orders(filters: dict):
    """Orders matching the list filters, latest planned start first."""
    qs = order_queryset()
    if filters.get("q"):
        text = filters["q"].strip()
        qs = qs.filter(Q(number__icontains=text) | Q(erp_reference__icontains=text))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("line"):
        qs = qs.filter(line=filters["line"])
    if filters.get("product"):
        qs = qs.filter(product=filters["product"])
    if filters.get("start_from"):
        qs = qs.filter(planned_start__gte=_day_start(filters["start_from"]))
    if filters.get("start_to"):
        qs = qs.filter(planned_start__lt=_day_start(filters["start_to"] + dt.timedelta(days=1)))
    return qs.order_by("-planned_start", "-id")


@permission_required(VIEW, raise_exception=True)
def order_list(request):
    form = OrderFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(filter_orders(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_create": request.user.has_perm("orders.add_productionorder"),
        },
    )


@permission_required("orders.add_productionorder", raise_exception=True)
def order_create_view(request):
    form = OrderForm(request.POST or None, initial=_new_order_initial())
    if request.method == "POST" and form.is_valid():
        try:
            order = order_create(user=request.user, **form.cleaned_data)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Order %(n)s was created as a draft.") % {"n": order.number})
            return redirect("orders:order_detail", pk=order.pk)
    return render(request, "orders/order_form.html", {"form": form, "order": None})


def _new_order_initial() -> dict:
    start = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    return {"planned_start": start, "planned_end": start + dt.timedelta(hours=16), "priority": 3}


@permission_required("orders.change_productionorder", raise_exception=True)
def order_edit(request, pk: int):
    order = get_object_or_404(order_queryset(), pk=pk)
    form = OrderForm(request.POST or None, instance=order, editing=True)
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in EDITABLE_FIELDS if k in form.cleaned_data}
        changed = {k: v for k, v in values.items() if v != getattr(order, k)}
        try:
            order_update(user=request.user, order_id=order.pk, reason=form.cleaned_data.get("reason", ""), **changed)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            order.refresh_from_db()
            if order.status == OrderStatus.SUBMITTED:
                messages.warning(request, _("The change was saved. The order needs approval again."))
            else:
                messages.success(request, _("The change was saved."))
            return redirect("orders:order_detail", pk=order.pk)
    return render(
        request,
        "orders/order_form.html",
        {
            "form": form,
            "order": order,
            "needs_reason": order.submitted_by_id is not None,
            "blocked": order.status not in (OrderStatus.DRAFT, OrderStatus.APPROVED),
        },
    )


@permission_required(VIEW, raise_exception=True)
def order_detail(request, pk: int):
    order = get_object_or_404(order_queryset().select_related("created_by", "submitted_by"), pk=pk)
    batches = list(order.batches.order_by("sequence", "pk"))
    # Who may execute each batch: the batches app grants "execute_batch" on the batch (ORD-6).
    operators = object_permission_holders(batches, "execute_batch")
    show_check = order.status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.APPROVED)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "machine": ORDER_MACHINE,
            "internal": ORDER_INTERNAL,
            "amendments": order.amendments.select_related("changed_by").order_by("revision", "pk"),
            "approvals": order.approvals.select_related("decided_by").order_by("decided_at", "pk"),
            "batches": [(b, operators.get(b.pk, [])) for b in batches],
            "events": record_events("orders.productionorder", order.pk),
            "problems": order_problems(order) if show_check else [],
            "equipment": required_equipment(order),
            "can_edit": order.status in (OrderStatus.DRAFT, OrderStatus.APPROVED)
            and user_may(request.user, "orders.change_productionorder"),
            "can_review": order.status == OrderStatus.SUBMITTED
            and user_may(request.user, "orders.approve_productionorder"),
            "can_batch": order.status in (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS)
            and user_may(request.user, "orders.create_batches_productionorder"),
        },
    )


@require_http_methods(["GET", "POST"])
def order_action(request, pk: int, action: str):
    """Confirm and take one lifecycle action (with the signature dialog when it is signed)."""
    if action not in ORDER_ACTIONS or action in ORDER_INTERNAL:
        raise Http404
    order = get_object_or_404(order_queryset(), pk=pk)
    transition = ORDER_MACHINE.get(action)
    if not user_may(request.user, transition.permission, order):
        raise PermissionDenied
    if order.status not in transition.source:
        messages.error(
            request,
            _("“%(a)s” is not possible while the order is %(s)s.")
            % {"a": transition.label, "s": order.get_status_display().lower()},
        )
        return redirect("orders:order_detail", pk=order.pk)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kwargs = {"user": request.user, "order_id": order.pk, "reason": form.cleaned_data["reason"]}
        if transition.signature:
            kwargs["password"] = form.cleaned_data["password"]
        try:
            ORDER_ACTIONS[action](**kwargs)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("%(a)s: done for order %(n)s.") % {"a": transition.label, "n": order.number})
            return redirect("orders:order_detail", pk=order.pk)
    return render(request, "orders/order_action.html", {"order": order, "transition": transition, "form": form})


@permission_required("orders.approve_productionorder", raise_exception=True)
def approval_queue(request):
    qs = order_queryset().select_related("created_by").filter(status=OrderStatus.SUBMITTED)
    page = Paginator(qs.order_by("priority", "planned_start", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/approval_queue.html", {"page": page, "query": ""})


@permission_required("orders.approve_productionorder", raise_exception=True)
def order_review(request, pk: int):
    """The supervisor's review: what the order needs, what is missing, approve or return (signed)."""
    order = get_object_or_404(order_queryset().select_related("created_by", "submitted_by"), pk=pk)
    if order.status != OrderStatus.SUBMITTED:
        messages.info(request, _("Order %(n)s is not waiting for approval.") % {"n": order.number})
        return redirect("orders:order_detail", pk=order.pk)
    form = SignForm(request.POST or None)
    decision = request.POST.get("decision")
    if request.method == "POST" and decision in ("approve", "return") and form.is_valid():
        service = order_approve if decision == "approve" else order_return
        try:
            service(
                user=request.user,
                order_id=order.pk,
                password=form.cleaned_data["password"],
                reason=form.cleaned_data["reason"],
            )
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            text = _("Order %(n)s approved.") if decision == "approve" else _("Order %(n)s returned to the planner.")
            messages.success(request, text % {"n": order.number})
            return redirect("orders:approval_queue")
    recipe = order.recipe
    return render(
        request,
        "orders/order_review.html",
        {
            "order": order,
            "form": form,
            "problems": order_problems(order),
            "warnings": order_warnings(order),
            "recipe": recipe,
            "equipment": required_equipment(order),
            "amendments": order.amendments.select_related("changed_by").order_by("revision"),
            "approvals": order.approvals.select_related("decided_by").order_by("decided_at"),
            "own": request.user.pk in {order.created_by_id, order.submitted_by_id},
        },
    )


@permission_required("orders.create_batches_productionorder", raise_exception=True)
def order_batches(request, pk: int):
    """The supervisor splits a released order into batches and assigns operators."""
    order = get_object_or_404(order_queryset(), pk=pk)
    if order.status not in (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS):
        messages.error(request, _("Batches are created only from a released order."))
        return redirect("orders:order_detail", pk=order.pk)
    form = BatchCreateForm(request.POST or None, initial={"count": default_batch_count(order)})
    if request.method == "POST" and form.is_valid():
        try:
            batches = order_create_batches(
                user=request.user,
                order_id=order.pk,
                count=form.cleaned_data["count"],
                operators=form.cleaned_data["operators"],
            )
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(count)s batch(es) created: %(numbers)s.")
                % {"count": len(batches), "numbers": ", ".join(b.number for b in batches)},
            )
            return redirect("orders:order_detail", pk=order.pk)
    return render(
        request,
        "orders/order_batches.html",
        {"order": order, "form": form, "remaining": order_remaining_quantity(order)},
    )
