"""The dispensing booth (issue 19): tablet, scanner-first, one weighing at a time.

Choose the line, scan the balance, scan the source lot, put the empty container on and Tare, add
material, Capture: the stable net weight comes from the balance, never from a keyboard. A typed
weight is the exception (reason + second person). Each captured container gets its label.
The page keeps no state of its own: line and balance travel in the URL, the scanned lot in the
form, and every action re-checks everything in the service.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from equipment.balances import BalanceError
from equipment.balances.simulator import send_control
from equipment.models import Balance
from equipment.services.balance import (
    balance_check_record,
    balance_get,
    balance_live,
    balance_problems,
    balance_tare,
    balance_zero,
)
from materials import services
from materials.batch_source import batches
from materials.models import DispenseEntry, Lot
from materials.requirements import batch_requirements, requirement_from_token, requirement_token
from materials.services.common import fmt
from materials.services.dispense import (
    dispense_capture,
    dispense_entries,
    dispense_label,
    dispense_manual,
    dispense_window,
)
from materials.services.issue import ISSUE_BATCH_STATES
from materials.views import REFUSED, error_text
from mes.units import convert

ISSUE = "materials.issue_material"
FAILED = (*REFUSED, BalanceError)


def _url(batch, token: str = "", balance: str = "") -> str:
    query = {k: v for k, v in (("line", token), ("balance", balance)) if v}
    base = reverse("materials:dispense_screen", kwargs={"number": batch.number})
    return f"{base}?{urlencode(query)}" if query else base


@permission_required(ISSUE, raise_exception=True)
def dispense_screen(request, number: str):
    batch = get_object_or_404(batches().select_related("product"), number=number)
    data = request.POST if request.method == "POST" else request.GET
    token, balance_code = data.get("line", ""), data.get("balance", "").strip().upper()
    req = requirement_from_token(token, batch) if token else None
    if token and req is None:
        messages.error(request, _("This link to a material line is not valid. Choose the line again."))
        return redirect(_url(batch))
    ctx = {
        "batch": batch,
        "req": req,
        "token": token,
        "balance_code": balance_code,
        "open": batch.status in ISSUE_BATCH_STATES,
    }
    balance = None
    if balance_code:
        try:
            balance = balance_get(balance_code)
        except FAILED as exc:
            ctx["refusal"] = error_text(exc)
            ctx["balance_code"] = ""
    ctx["balance"] = balance
    if request.method == "POST" and ctx["open"]:
        handler = OPS.get(request.POST.get("op", ""))
        if handler is not None:
            response = handler(request, batch, req, balance, ctx)
            if response is not None:
                return response
    return _render(request, batch, req, balance, ctx)


@permission_required(ISSUE, raise_exception=True)
def dispense_weight(request, number: str):
    """The booth's live display (polled): the weight on the pan now, judged against what the next
    container may weigh. JSON; nothing is recorded (only Capture records a weight)."""
    batch = get_object_or_404(batches(), number=number)
    req = requirement_from_token(request.GET.get("line", ""), batch)
    try:
        balance = balance_get(request.GET.get("balance", "").strip().upper())
        live = balance_live(balance=balance)
    except FAILED as exc:
        return JsonResponse({"ok": False, "message": error_text(exc)})
    m = balance.metrology
    shown = {"ok": True, "stable": live.stable, "weight": fmt(live.net, live.unit)}
    if req is None:
        return JsonResponse({**shown, "state": "none", "message": ""})
    low, high = dispense_window(batch=batch, requirement=req, unit=live.unit)
    return JsonResponse({**shown, **_judged(live.net, live.stable, low, high, m.minimum_weight, live.unit)})


def _judged(net: Decimal, stable: bool, low: Decimal, high: Decimal, minimum: Decimal, unit: str) -> dict:
    """Where the weight stands for the operator: below the minimum weight, short, in window, over."""
    window = {"low": fmt(low, unit), "high": fmt(high, unit)}
    if net < minimum:
        state = "below-minimum"
        message = _("Below the balance's minimum weight %(min)s: add material.") % {"min": fmt(minimum, unit)}
    elif net < low:
        state, message = (
            "short",
            _("Add %(more)s more (window %(low)s to %(high)s).") % {"more": fmt(low - net, unit), **window},
        )
    elif net > high:
        state, message = (
            "over",
            _("Too much: take off %(less)s (window %(low)s to %(high)s).") % {"less": fmt(net - high, unit), **window},
        )
    elif stable:
        state, message = "in", _("Stable within the window %(low)s to %(high)s: Capture.") % window
    else:
        state, message = (
            "in",
            _("Within the window %(low)s to %(high)s: wait until it is stable, then Capture.") % window,
        )
    span = high if high > 0 else Decimal(1)
    return {"state": state, "message": message, "fill": min(100, int(net / span * 100)) if net > 0 else 0}


def _render(request, batch, req, balance, ctx):
    if req is None:
        ctx["lines"] = [
            {
                "req": r,
                "token": requirement_token(r, batch),
                "issued": services.issued_to_batch(batch, material=r.material),
            }
            for r in batch_requirements(batch)
        ]
    else:
        ctx["issued"] = services.issued_to_batch(batch, material=req.material)
        ctx["fefo"] = services.lot_suggest_fefo(material=req.material, limit=3)
    if balance is not None:
        ctx["problems"] = balance_problems(balance)
    else:
        ctx["balances"] = Balance.objects.select_related("equipment", "metrology").order_by("equipment__code")
    ctx["containers"] = dispense_entries(batch)
    ctx["sim_controls"] = settings.MES_BALANCE_SIMULATOR_CONTROLS
    return render(request, "materials/dispense.html", ctx)


def _scanned_lot(request, ctx):
    code = request.POST.get("lot_code", "").strip()
    if code:
        ctx["lot"] = Lot.objects.select_related("material").filter(code=code).first()
    return code


def _post_scan(request, batch, req, balance, ctx):
    if req is None:
        return None
    try:
        lot = services.lot_check_scan(
            user=request.user, batch=batch, lot_code=request.POST.get("lot_code", ""), requirement=req
        )
    except REFUSED as exc:
        ctx["refusal"] = error_text(exc)
        return None
    ctx["lot"] = lot
    return None


def _post_balance_action(request, batch, req, balance, ctx):
    _scanned_lot(request, ctx)
    if balance is None:
        return None
    op = request.POST.get("op")
    try:
        if op == "tare":
            reading = balance_tare(balance=balance)
            ctx["done"] = _("Tared: %(w)s. Now add the material.") % {"w": fmt(reading.value, reading.unit)}
        else:
            balance_zero(balance=balance)
            ctx["done"] = _("Balance zeroed.")
    except FAILED as exc:
        ctx["refusal"] = error_text(exc)
    return None


def _post_capture(request, batch, req, balance, ctx):
    code = _scanned_lot(request, ctx)
    if req is None or balance is None:
        return None
    try:
        entry = dispense_capture(user=request.user, batch=batch, requirement=req, lot_code=code, balance=balance)
    except FAILED as exc:
        ctx["refusal"] = error_text(exc)
        return None
    messages.success(
        request,
        _("Captured %(net)s net of lot %(lot)s into container %(c)s. Print its label.")
        % {"net": fmt(entry.net, entry.unit), "lot": entry.lot.code, "c": entry.container_code},
    )
    return redirect(_url(batch, ctx["token"], ctx["balance_code"]))


def _post_manual(request, batch, req, balance, ctx):
    code = _scanned_lot(request, ctx)
    if req is None:
        return None
    p = request.POST
    name = p.get("verifier", "").strip()
    verifier = get_user_model().objects.filter(username=name, is_active=True).first() if name else None
    try:
        entry = dispense_manual(
            user=request.user,
            batch=batch,
            requirement=req,
            lot_code=code,
            gross=p.get("gross", ""),
            tare=p.get("tare", ""),
            unit=p.get("unit", "g"),
            reason=p.get("reason", ""),
            verifier=verifier,
            verifier_password=p.get("verifier_password", ""),
            balance=balance,
        )
    except FAILED as exc:
        ctx["refusal"] = error_text(exc)
        ctx["manual_open"] = True
        return None
    messages.warning(
        request,
        _("Typed weight %(net)s recorded for container %(c)s: it will be reviewed by exception.")
        % {"net": fmt(entry.net, entry.unit), "c": entry.container_code},
    )
    return redirect(_url(batch, ctx["token"], ctx["balance_code"]))


def _post_label(request, batch, req, balance, ctx):
    entry = get_object_or_404(DispenseEntry, pk=request.POST.get("entry"), batch=batch)
    as_pdf = request.POST.get("format") == "pdf"
    try:
        pdf, _zpl = dispense_label(
            user=request.user, entry=entry, reason=request.POST.get("reason", ""), send=not as_pdf
        )
    except FAILED as exc:
        ctx["refusal"] = error_text(exc)
        return None
    if as_pdf:
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="label-{entry.container_code.replace("/", "-")}.pdf"'
        return response
    messages.success(request, _("Label of container %(c)s sent to the label printer.") % {"c": entry.container_code})
    return redirect(_url(batch, ctx["token"], ctx["balance_code"]))


def _post_check(request, batch, req, balance, ctx):
    if balance is None:
        return None
    try:
        check = balance_check_record(
            user=request.user, balance=balance, test_weight=request.POST.get("test_weight", "")
        )
    except FAILED as exc:
        ctx["refusal"] = error_text(exc)
        return None
    text = (
        _("Balance check passed: read %(r)s %(u)s.") if check.passed else _("Balance check FAILED: read %(r)s %(u)s.")
    )
    (messages.success if check.passed else messages.error)(
        request, text % {"r": check.reading.normalize(), "u": check.unit}
    )
    return redirect(_url(batch, ctx["token"], ctx["balance_code"]))


def _post_sim(request, batch, req, balance, ctx):
    """Demo only: what an operator's hands would do on a simulated balance."""
    _scanned_lot(request, ctx)
    if balance is None or not settings.MES_BALANCE_SIMULATOR_CONTROLS:
        return None

    m = balance.metrology
    line = {
        "container": f"W {(m.capacity * Decimal('0.014')).quantize(m.readability)}",
        "material": f"ADD {_target(req, m)}",
        "testweight": f"W {m.check_weight + m.readability}",
        "empty": "W 0",
        "unstable": "UNSTABLE",
        "stable": "STABLE",
    }.get(request.POST.get("sim", ""))
    if line:
        try:
            send_control(balance.host, balance.port, line)
        except OSError:
            ctx["refusal"] = _("The balance simulator is not running.")
    return None


def _target(req, metrology) -> Decimal:
    """The line's remaining target in the balance's unit (demo button), or 1 % of capacity."""
    try:
        return convert(req.quantity, req.unit, metrology.unit).quantize(metrology.readability)
    except (ValidationError, TypeError, AttributeError):
        return (metrology.capacity / 100).quantize(metrology.readability)


OPS = {
    "scan": _post_scan,
    "tare": _post_balance_action,
    "zero": _post_balance_action,
    "capture": _post_capture,
    "manual": _post_manual,
    "label": _post_label,
    "check": _post_check,
    "sim": _post_sim,
}
