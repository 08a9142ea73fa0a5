"""Warehouse pages: lot list, goods receipt, lot detail (status, stock, ledger, labels), locations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from audit.signatures import SignatureError
from materials import services
from materials.forms import AdjustForm, LabelForm, LotFilterForm, ReceiptForm, StatusActionForm, TransferForm
from materials.labels import labels_pdf
from materials.models import LOT_MACHINE, Location, Lot
from materials.selectors import location_stock, lot_search

VIEW = "materials.view_lot"
REFUSED = (ValidationError, PermissionDenied, SignatureError)


def error_text(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@permission_required(VIEW, raise_exception=True)
def lot_list(request):
    form = LotFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(lot_search(filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "materials/lot_list.html", {"form": form, "page": page, "query": query.urlencode()})


@permission_required("materials.receive_lot", raise_exception=True)
def lot_receive(request):
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_receive(user=request.user, **form.cleaned_data)
        except REFUSED as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(
                request, _("Lot %(lot)s received into quarantine. Print its labels now.") % {"lot": lot.code}
            )
            return redirect("materials:lot_detail", code=lot.code)
    return render(request, "materials/lot_receive.html", {"form": form})


def _lot_context(request, lot: Lot, **forms) -> dict:
    user = request.user
    balances = lot.balances.filter(quantity__gt=0).select_related("location").order_by("location__code")
    context = {
        "lot": lot,
        "balances": balances,
        "stock": sum((b.quantity for b in balances), 0),
        "entries": lot.entries.select_related("location", "batch", "actor", "verified_by").order_by(
            "-created_at", "-id"
        )[:200],
        "prints": lot.label_prints.select_related("printed_by")[:20],
        "consumed_in": lot.consumed_in.select_related("batch").order_by("batch__number"),
        # Issue 19: the containers weighed out of this lot (source lot -> container -> batch).
        "containers": lot.dispense_entries.select_related("batch", "balance", "weighed_by").order_by(
            "created_at", "id"
        ),
        "actions": services.lot_actions(lot, user),
        "can_label": user.has_perm("materials.print_label"),
        "can_move": user.has_perm("materials.move_stock"),
        "can_adjust": user.has_perm("materials.adjust_stock"),
        "can_trace": user.has_perm("materials.view_genealogy"),
        "label_form": forms.get("label_form") or LabelForm(),
        "transfer_form": forms.get("transfer_form") or TransferForm(lot=lot),
        "adjust_form": forms.get("adjust_form") or AdjustForm(),
        "action_form": forms.get("action_form"),
        "machine": LOT_MACHINE,
        # Nonconforming product (issue 16): the lot's dispositions and rework batches, and for a
        # reworked lot the original it was made from.
        "dispositions": lot.dispositions.select_related("rework_batch").order_by("-pk"),
        "rework_batches": lot.rework_batches.order_by("pk"),
        "reworked_from": lot.produced_by.rework_lot if lot.produced_by_id and lot.produced_by.rework_lot_id else None,
    }
    return context


@permission_required(VIEW, raise_exception=True)
def lot_detail(request, code: str):
    lot = get_object_or_404(Lot.objects.select_related("material", "produced_by__rework_lot", "received_by"), code=code)
    if request.method != "POST":
        return render(request, "materials/lot_detail.html", _lot_context(request, lot))
    op = request.POST.get("op")
    handler = {"status": _post_status, "labels": _post_labels, "transfer": _post_transfer, "adjust": _post_adjust}.get(
        op
    )
    if handler is None:
        messages.error(request, _("Unknown action."))
        return redirect("materials:lot_detail", code=code)
    return handler(request, lot)


def _post_status(request, lot):
    form = StatusActionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    name, reason, password = data.get("action", ""), data.get("reason", ""), data.get("password", "")
    calls = {
        "release": lambda: services.lot_release(user=request.user, lot=lot, password=password, reason=reason),
        "reject": lambda: services.lot_reject(user=request.user, lot=lot, password=password, reason=reason),
        "block": lambda: services.lot_block(user=request.user, lot=lot, reason=reason),
        "unblock": lambda: services.lot_unblock(user=request.user, lot=lot, password=password, reason=reason),
        "unblock_quarantine": lambda: services.lot_unblock(
            user=request.user, lot=lot, password=password, reason=reason
        ),
    }
    if name not in calls:
        messages.error(request, _("Unknown action."))
        return redirect("materials:lot_detail", code=lot.code)
    try:
        updated = calls[name]()
    except REFUSED as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("Lot %(lot)s is now %(status)s.")
            % {"lot": updated.code, "status": updated.get_effective_status_display()},
        )
    return redirect("materials:lot_detail", code=lot.code)


def _post_labels(request, lot):
    form = LabelForm(request.POST)
    if form.is_valid():
        try:
            locked, record = services.lot_print_labels(
                user=request.user,
                lot=lot,
                containers=form.cleaned_data["containers"],
                reason=form.cleaned_data["reason"],
            )
        except REFUSED as exc:
            form.add_error(None, error_text(exc))
        else:
            numbers = [int(n) for n in record.containers.split(",")]
            pdf = labels_pdf(locked, numbers, request.user, record.reprint)
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="labels-{lot.code}.pdf"'
            return response
    return render(request, "materials/lot_detail.html", _lot_context(request, lot, label_form=form))


def _post_transfer(request, lot):
    form = TransferForm(request.POST, lot=lot)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.lot_transfer(
                user=request.user,
                lot=lot,
                from_location=d["from_location"],
                to_location=d["to_location"],
                quantity=d["quantity"],
                unit=lot.unit,
                reason=d["reason"],
            )
        except REFUSED as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Stock moved."))
            return redirect("materials:lot_detail", code=lot.code)
    return render(request, "materials/lot_detail.html", _lot_context(request, lot, transfer_form=form))


def _post_adjust(request, lot):
    form = AdjustForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.lot_adjust(
                user=request.user,
                lot=lot,
                location=d["location"],
                quantity=d["quantity"],
                unit=lot.unit,
                reason=d["reason"],
                password=d["password"],
            )
        except REFUSED as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Stock adjusted and signed."))
            return redirect("materials:lot_detail", code=lot.code)
    return render(request, "materials/lot_detail.html", _lot_context(request, lot, adjust_form=form))


@permission_required("materials.view_location", raise_exception=True)
def location_list(request):
    locations = Location.objects.annotate(
        lots=Count("balances", filter=Q(balances__quantity__gt=0)),
    ).order_by("code")
    return render(request, "materials/location_list.html", {"locations": locations})


@permission_required("materials.view_location", raise_exception=True)
def location_detail(request, code: str):
    location = get_object_or_404(Location, code=code)
    balances = location_stock(location)
    totals = (
        balances.values("lot__material__code", "lot__unit")
        .annotate(total=Sum("quantity"))
        .order_by("lot__material__code")
    )
    return render(
        request, "materials/location_detail.html", {"location": location, "balances": balances, "totals": totals}
    )
