"""Batch pages: list, preparation (supervisor), the operator's one-step screen, review by exception
(QC), the full record and its PDF. Views are thin: every rule is in batches.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError as BrokerError

from audit.signatures import SignatureError
from batches import services as s
from batches.models import BATCH_MACHINE, Batch, BatchStatus, EntryCorrection, StepExecution
from batches.pdf import record_context
from batches.selectors import entry_id_of, screen_corrections, screen_entries, screen_step, step_id_of
from batches.services.gates import step_materials
from batches.services.hooks import release_decisions
from batches.services.rework import batch_create_rework, rework_of
from batches.tasks import batch_record_pdf
from equipment.services import equipment_check_usable
from mes.workflow import AlreadyDone, user_may

VIEW = "batches.view_batch"
REFUSED = (ValidationError, PermissionDenied, SignatureError)
_LEVELS = {"success": messages.SUCCESS, "info": messages.INFO, "error": messages.ERROR}


def error_text(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _outcome(fn, success: str, **kwargs) -> tuple[str, str]:
    """Runs one action: the message level ("success", "info" or "error") and the text to show."""
    try:
        fn(**kwargs)
    except AlreadyDone as exc:  # the same person's repeated submit (double click): not an error
        return "info", error_text(exc)
    except REFUSED as exc:
        return "error", error_text(exc)
    return "success", success


def _announce(request, outcome: tuple[str, str]) -> None:
    """Keeps an action's outcome for the page shown after its redirect."""
    level, text = outcome
    messages.add_message(request, _LEVELS[level], text)


def _attempt(request, fn, success: str, **kwargs) -> bool:
    outcome = _outcome(fn, success, **kwargs)
    _announce(request, outcome)
    return outcome[0] == "success"


def _batch(number: str) -> Batch:
    return get_object_or_404(
        Batch.objects.select_related("product", "line", "order", "recipe", "rework_lot"), number=number
    )


@permission_required(VIEW, raise_exception=True)
def batch_list(request):
    status = request.GET.get("status", "")
    qs = Batch.objects.select_related("product", "line", "order")
    if status in BatchStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    _count_steps(page.object_list)
    return render(request, "batches/list.html", {"page": page, "status": status, "statuses": BatchStatus.choices})


def _count_steps(batches) -> None:
    """Steps done / steps of the listed batches, in one grouped query over their steps only. Counting
    with the list query (a join and GROUP BY over every batch, before the page is cut) took ~300 ms of
    PostgreSQL on a plant with a few thousand batches, and the page count joined the steps as well."""
    batches = list(batches)
    counts = {
        row["batch_id"]: row
        for row in StepExecution.objects.filter(batch__in=batches)
        .values("batch_id")
        .annotate(total=Count("id"), done=Count("id", filter=Q(status__in=["done", "verified"])))
    }
    for batch in batches:
        row = counts.get(batch.pk, {})
        batch.steps_total, batch.steps_done = row.get("total", 0), row.get("done", 0)


@require_POST
@permission_required("batches.prepare_batch", raise_exception=True)
def rework_start(request, disposition_id: int):
    """The supervisor starts the rework batch of an approved rework disposition (signed)."""
    operators = get_user_model().objects.filter(pk__in=request.POST.getlist("operators"), is_active=True)
    try:
        batch = batch_create_rework(
            user=request.user,
            disposition_id=disposition_id,
            operators=operators,
            password=request.POST.get("password", ""),
        )
    except REFUSED as exc:
        messages.error(request, error_text(exc))
        return redirect("quality:disposition_detail", pk=disposition_id)
    messages.success(request, _("Rework batch %(b)s created: prepare and start it.") % {"b": batch.number})
    return redirect("batches:detail", number=batch.number)


@permission_required(VIEW, raise_exception=True)
def batch_detail(request, number: str):
    """Overview; for a planned batch the preparation panel (interlocks, materials, line clearance)."""
    batch = _batch(number)
    user = request.user
    if request.method == "POST":
        op = request.POST.get("op")
        password = request.POST.get("password", "")
        if op == "clearance":
            _attempt(
                request,
                s.batch_line_clearance_sign,
                _("Line clearance signed."),
                user=user,
                batch=batch,
                password=password,
                confirmed=bool(request.POST.get("confirmed")),
                notes=request.POST.get("reason", ""),
            )
        elif op == "ready":
            _attempt(request, s.batch_mark_ready, _("Batch is ready."), user=user, batch=batch, password=password)
        elif op == "start":
            _attempt(request, s.batch_start, _("Batch started: the batch record is open."), user=user, batch=batch)
        elif op == "complete":
            _attempt(
                request,
                s.batch_complete,
                _("Batch completed."),
                user=user,
                batch=batch,
                password=password,
                output_quantity=request.POST.get("output_quantity", ""),
            )
        elif op == "resubmit":
            _attempt(request, s.batch_resubmit, _("Corrections sent back to review."), user=user, batch=batch)
        return redirect("batches:detail", number=number)
    steps = list(batch.steps.select_related("performed_by", "verified_by", "equipment"))
    prep = s.batch_preparation(batch) if batch.status == BatchStatus.PLANNED and batch.recipe_id else None
    can_execute = user_may(user, s.EXECUTE, batch)
    context = {
        "batch": batch,
        "steps": steps,
        "prep": prep,
        "can_prepare": user_may(user, "batches.prepare_batch", batch),
        "can_execute": can_execute,
        "all_steps_done": bool(steps) and all(s.step_complete(x) for x in steps),
        "record": getattr(batch, "record", None) if batch.status != BatchStatus.PLANNED else None,
        "corrections_open": batch.status == BatchStatus.CORRECTION_REQUESTED,
        "has_materials": bool(batch.recipe_id),
        "rework": rework_of(batch),
    }
    return render(request, "batches/detail.html", context)


@permission_required(VIEW, raise_exception=True)
def step_screen(request, number: str, step: int):
    """The operator's one-step screen: scan to start, record values, sign, second-person verify."""
    if request.method == "POST":
        return _step_action(request, number, step)
    return _screen(request, number, step)


def _screen(request, number: str, step: int):
    """The step screen as it stands; after an action sent by the page (htmx), it is that action's answer."""
    # The step with its batch (and what the screen shows of both) in one query; 404 for either unknown.
    current = screen_step(number, step)
    if current is None:
        raise Http404
    batch = current.batch
    user = request.user
    steps = s.step_outline(batch)
    prefix = reverse("batches:step", args=[batch.number, 0]).removesuffix("0/")  # one reverse, not one per step
    entries = _shown_entries(current, screen_entries(current))
    usability = None
    if current.equipment_id:
        usability = equipment_check_usable(equipment=current.equipment_id)
    context = {
        "batch": batch,
        "step": current,
        "steps": steps,
        "step_links": [(st, f"{prefix}{st.number}/") for st in steps],
        "entries": entries,
        "blockers": s.step_blockers(current, steps) if current.status == "pending" else [],
        **_may_act(user, current),
        "needs_verification": s.step_needs_verification(current),
        "usability": usability,
        "has_materials": bool(batch.recipe_id),
        "materials": step_materials(current) if current.status == "active" else [],
    }
    context["materials_short"] = [m for m in context["materials"] if not m.ok]
    return render(request, "batches/step.html", context)


def _shown_entries(step: StepExecution, entries: list) -> list:
    """The step's values as the screen shows them: with their corrections and the machine's reading."""
    screen_corrections(step, entries)
    for e in entries:
        e.reading = s.machine_reading(e, step) if e.equipment_tag else None
    return entries


def _may_act(user, step: StepExecution) -> dict[str, bool]:
    """What the screen offers this user on the step: executing it at all, recording (the batch runs,
    or this step was reopened for a correction) and correcting recorded values."""
    batch = step.batch
    return {
        "can_execute": user_may(user, s.EXECUTE, batch),
        "running": batch.status == BatchStatus.IN_PROGRESS
        or (batch.status == BatchStatus.CORRECTION_REQUESTED and bool(step.reopen_reason)),
        "correcting": batch.status in (BatchStatus.CORRECTION_REQUESTED, BatchStatus.IN_PROGRESS),
    }


def _entry_block(request, number: str, step: int, entry: int, message: tuple[str, str]):
    """The answer to a value recorded from the page (htmx): that value's block alone, read back as stored,
    with the outcome in it. A refused value keeps what was typed, to be completed (a comment) or fixed."""
    current = screen_step(number, step)
    shown = _shown_entries(current, [e for e in screen_entries(current) if e.pk == entry])
    level, _text = message
    context = {
        "e": shown[0],
        "step": current,
        **_may_act(request.user, current),
        "block_messages": [message],
        "typed": request.POST if level == "error" else None,
    }
    return render(request, "batches/_entry_block.html", context)


def _entry(request, number: str, step: int) -> int:
    """The id of the entry the form names, of this batch's step (404 for another step's entry or an
    unknown step): one query for the step and the entry."""
    entry = entry_id_of(number, step, _int(request.POST.get("entry")))
    if entry is None:
        raise Http404
    return entry


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _step_action(request, number: str, step: int):
    """One operator action on the step (POST). The services load and lock what they change, so only
    the step's id is looked up here (the batch number and the step number must match, as before); a
    value's entry is looked up with its step in one query."""
    user = request.user
    op = request.POST.get("op")
    if op in ("record", "correct"):
        entry = _entry(request, number, step)
    else:
        current = step_id_of(number, step)
        if current is None:
            raise Http404
    password = request.POST.get("password", "")
    if op == "start":
        _attempt(
            request,
            s.step_start,
            _("Step started."),
            user=user,
            step=current,
            scan=request.POST.get("scan", ""),
            how=request.POST.get("how", "scanned"),
        )
    elif op == "record":
        outcome = _outcome(
            s.entry_record,
            _("Value recorded."),
            user=user,
            entry=entry,
            value=request.POST.get("value", ""),
            version=request.POST.get("version", "0") or 0,
            comment=request.POST.get("comment", ""),
            override_reason=request.POST.get("override_reason", ""),
            how=request.POST.get("how", "manual"),
        )
        if request.htmx:  # the page sent it: answer with the value's block, not the whole page again
            return _entry_block(request, number, step, entry, outcome)
        _announce(request, outcome)
    elif op == "correct":
        _attempt(
            request,
            s.entry_correct,
            _("Value corrected."),
            user=user,
            entry=entry,
            value=request.POST.get("value", ""),
            version=request.POST.get("version", "0") or 0,
            reason=request.POST.get("reason", ""),
            comment=request.POST.get("comment", ""),
        )
    elif op == "sign":
        _attempt(
            request,
            s.step_sign,
            _("Step signed."),
            user=user,
            step=current,
            password=password,
            material_exception_reason=request.POST.get("material_exception_reason", ""),
        )
    elif op == "verify":
        _attempt(
            request,
            s.step_verify,
            _("Step verified."),
            user=user,
            step=current,
            verifier_username=request.POST.get("verifier", ""),
            password=password,
        )
    if request.htmx:  # the page sent it: answer with the screen as it now stands, not a redirect to it
        return _screen(request, number, step)
    return redirect("batches:step", number=number, step=step)


@permission_required(VIEW, raise_exception=True)
def review(request, number: str):
    """Review by exception: the exceptions first, each dispositioned; then approve (signed) or send back."""
    batch = _batch(number)
    user = request.user
    if request.method == "POST":
        op = request.POST.get("op")
        password = request.POST.get("password", "")
        reason = request.POST.get("reason", "")
        decisions = release_decisions()  # the quality app's release services (quality sits above batches)
        actions = {
            "review_start": (s.batch_review_start, _("Review started."), {}),
            "dispose": (
                s.exception_dispose,
                _("Disposition recorded."),
                {"key": request.POST.get("key", ""), "note": request.POST.get("note", "")},
            ),
            "request_correction": (
                s.batch_request_correction,
                _("Correction requested."),
                {"reason": reason, "reexecute_steps": request.POST.getlist("reexecute")},
            ),
            "approve_review": (s.batch_approve_review, _("Batch record approved."), {"password": password}),
            "qc_release": (
                decisions.get("qc_release"),
                _("QC release signed."),
                {"password": password, "reason": reason},
            ),
            "release": (decisions.get("release"), _("Batch released."), {"password": password, "reason": reason}),
            "archive": (s.batch_archive, _("Batch record archived."), {}),
        }
        if op in actions and actions[op][0] is not None:
            fn, msg, extra = actions[op]
            _attempt(request, fn, msg, user=user, batch=batch, **extra)
        return redirect("batches:review", number=number)
    exceptions = s.batch_exceptions(batch) if hasattr(batch, "record") else []
    context = {
        "batch": batch,
        "exceptions": exceptions,
        "open_count": sum(1 for e in exceptions if e.disposition is None),
        "actions": [
            t
            for t in BATCH_MACHINE.available(batch, user)
            if t.name in ("review_start", "request_correction", "approve_review", "qc_release", "release", "archive")
        ],
        "executor": user.pk in s.batch_executors(batch),
        "steps": list(batch.steps.all()) if batch.status == BatchStatus.UNDER_REVIEW else [],
        "record": getattr(batch, "record", None),
    }
    return render(request, "batches/review.html", context)


@permission_required(VIEW, raise_exception=True)
def record(request, number: str):
    """The full batch record on screen (the same content as the PDF), PDF status and checksum."""
    batch = _batch(number)
    if request.method == "POST" and request.POST.get("op") == "pdf":
        try:
            batch_record_pdf.delay(batch.pk, request.user.pk)
        except REFUSED as exc:
            messages.error(request, error_text(exc))
        except BrokerError:  # the task queue (Redis) is down: nothing was started, the page still works
            messages.error(request, _("Background work is unavailable at the moment; ask for the PDF again later."))
        else:
            messages.success(request, _("The PDF is being generated; refresh in a moment."))
        return redirect("batches:record", number=number)
    context = record_context(batch)
    context["can_generate"] = batch.status not in (BatchStatus.PLANNED, BatchStatus.READY, BatchStatus.ARCHIVED)
    return render(request, "batches/record.html", context)


@permission_required(VIEW, raise_exception=True)
def record_pdf(request, number: str):
    batch = _batch(number)
    rec = getattr(batch, "record", None)
    if rec is None or not rec.pdf:
        messages.error(request, _("No PDF has been generated for this batch yet."))
        return record(request, number)
    response = HttpResponse(bytes(rec.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="batch-record-{batch.number}.pdf"'
    response["X-Content-SHA256"] = rec.pdf_sha256
    return response


__all__ = ["EntryCorrection"]
