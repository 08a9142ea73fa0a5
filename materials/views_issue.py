"""The operator's scan-first issue screen for a batch, with returns, waste and the output lot.

Step 1: scan the lot (keyboard-wedge scanner: the scan field is focused; Enter submits). The lot is
checked against the line at once, so a wrong lot is refused before anything is weighed. Step 2:
the weighed quantity (and, where the line says so, a second person's user name and password).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from materials import services
from materials.batch_source import batches
from materials.forms import IssueForm, OutputForm, ReturnForm, ScanForm, WasteForm
from materials.models import LedgerEntry, Lot
from materials.requirements import batch_requirements, requirement_from_token, requirement_token
from materials.services.common import fmt
from materials.services.issue import ISSUE_BATCH_STATES, OUTPUT_BATCH_STATES
from materials.views import REFUSED, error_text

ISSUE = "materials.issue_material"


@permission_required(ISSUE, raise_exception=True)
def issue_batches(request):
    open_batches = (
        batches()
        .filter(status__in=ISSUE_BATCH_STATES + OUTPUT_BATCH_STATES)
        .select_related("product", "line")
        .order_by("number")
    )
    return render(request, "materials/issue_batches.html", {"batches": open_batches})


def _lines(batch):
    lines = []
    for req in batch_requirements(batch):
        token = requirement_token(req, batch)
        lines.append({"req": req, "token": token, "issued": services.issued_to_batch(batch, material=req.material)})
    return lines


def _screen_url(batch, token: str) -> str:
    url = reverse("materials:issue_screen", kwargs={"number": batch.number})
    return f"{url}?line={token}" if token else url


@permission_required(ISSUE, raise_exception=True)
def issue_screen(request, number: str):
    batch = get_object_or_404(batches().select_related("product"), number=number)
    token = request.POST.get("line") or request.GET.get("line") or ""
    req = requirement_from_token(token, batch) if token else None
    if token and req is None:
        messages.error(request, _("This link to a material line is not valid. Choose the line again."))
        return redirect("materials:issue_screen", number=number)
    context = {
        "batch": batch,
        "req": req,
        "token": token,
        "scan_form": ScanForm(),
        "lot": None,
        "open_for_issue": batch.status in ISSUE_BATCH_STATES,
        "open_for_output": batch.status in OUTPUT_BATCH_STATES,
    }
    if request.method == "POST":
        op = request.POST.get("op")
        handler = {
            "scan": _post_scan,
            "issue": _post_issue,
            "return": _post_return,
            "waste": _post_waste,
            "output": _post_output,
        }.get(op)
        if handler is not None:
            result = handler(request, batch, req, context)
            if result is not None:
                return result
    return _render(request, batch, req, context)


def _render(request, batch, req, context, status=200):
    if req is not None:
        context["issued"] = services.issued_to_batch(batch, material=req.material)
        context["fefo"] = services.lot_suggest_fefo(material=req.material)
        context.setdefault("issue_form", None)
    else:
        context["lines"] = _lines(batch)
    context["entries"] = (
        LedgerEntry.objects.filter(batch=batch)
        .select_related("lot", "lot__material", "actor", "verified_by")
        .order_by("-created_at", "-id")[:100]
    )
    context.setdefault("return_form", ReturnForm(initial={"unit": batch.product.unit}))
    context.setdefault("waste_form", WasteForm())
    context.setdefault("output_form", OutputForm(initial={"unit": batch.unit}))
    context["has_output"] = batch.output_lots.exists()
    return render(request, "materials/issue_screen.html", context, status=status)


def _post_scan(request, batch, req, context):
    form = ScanForm(request.POST)
    context["scan_form"] = form
    if req is None or not form.is_valid():
        return None
    try:
        lot = services.lot_check_scan(
            user=request.user, batch=batch, lot_code=form.cleaned_data["lot_code"], requirement=req
        )
    except REFUSED as exc:
        context["refusal"] = error_text(exc)
        return _render(request, batch, req, context)
    context["lot"] = lot
    context["issue_form"] = IssueForm(initial={"lot_code": lot.code, "unit": req.unit})
    return None


def _post_issue(request, batch, req, context):
    form = IssueForm(request.POST)
    if req is None or not form.is_valid():
        context["issue_form"] = form
        return None
    d = form.cleaned_data
    verifier = None
    if d["verifier"]:
        verifier = get_user_model().objects.filter(username=d["verifier"].strip(), is_active=True).first()
        if verifier is None:
            context["refusal"] = _("There is no active user “%(name)s”.") % {"name": d["verifier"]}
            return _back_to_quantity(request, batch, req, context, form)
    try:
        entry = services.lot_issue_to_batch(
            user=request.user,
            batch=batch,
            lot_code=d["lot_code"],
            quantity=d["quantity"],
            unit=d["unit"],
            requirement=req,
            verifier=verifier,
            verifier_password=d["verifier_password"],
        )
    except REFUSED as exc:
        context["refusal"] = error_text(exc)
        return _back_to_quantity(request, batch, req, context, form)
    messages.success(
        request,
        _("%(qty)s of lot %(lot)s issued to batch %(batch)s.")
        % {"qty": fmt(entry.quantity, entry.unit), "lot": entry.lot.code, "batch": batch.number},
    )
    return redirect(_screen_url(batch, context["token"]))


def _back_to_quantity(request, batch, req, context, form):
    context["lot"] = Lot.objects.select_related("material").filter(code=form.data.get("lot_code", "")).first()
    if context["lot"] is not None:
        context["lot"].stock = services.on_hand(context["lot"])
    context["issue_form"] = form
    return _render(request, batch, req, context)


def _post_form(request, batch, req, context, form_class, key: str, action):
    """A form of the issue screen: when valid, `action(cleaned_data)` runs the service and returns the
    message to flash; a refusal is shown on the form, which is rendered again."""
    form = form_class(request.POST)
    context[key] = form
    if form.is_valid():
        try:
            success = action(form.cleaned_data)
        except REFUSED as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, success)
            return redirect(_screen_url(batch, context["token"]))
    return _render(request, batch, req, context)


def _post_return(request, batch, req, context):
    def act(d):
        services.lot_return_from_batch(
            user=request.user,
            batch=batch,
            lot_code=d["lot_code"],
            quantity=d["quantity"],
            unit=d["unit"],
            location=d["location"],
            reason=d["reason"],
        )
        return _("Return recorded.")

    return _post_form(request, batch, req, context, ReturnForm, "return_form", act)


def _post_waste(request, batch, req, context):
    def act(d):
        services.lot_record_waste(
            user=request.user,
            batch=batch,
            lot_code=d["lot_code"],
            quantity=d["quantity"],
            unit=d["unit"],
            reason=d["reason"],
        )
        return _("Waste recorded.")

    return _post_form(request, batch, req, context, WasteForm, "waste_form", act)


def _post_output(request, batch, req, context):
    def act(d):
        lot = services.lot_create_output(
            user=request.user,
            batch=batch,
            quantity=d["quantity"],
            unit=d["unit"],
            location=d["location"],
            containers=d["containers"],
        )
        return _("Output lot %(lot)s created in quarantine.") % {"lot": lot.code}

    return _post_form(request, batch, req, context, OutputForm, "output_form", act)
