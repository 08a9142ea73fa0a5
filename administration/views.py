"""Administration pages: configuration and its change requests, reviews, system status, alerts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from administration.decisions import decision_post, signed_decisions
from administration.forms import AcknowledgeForm, PeriodForm, ProposeForm, ReviewForm
from administration.models import (
    CHANGE_MACHINE,
    ChangeStatus,
    ConfigChange,
    ConfigParameter,
    PeriodicReview,
    ReviewKind,
    SecurityAlert,
)
from administration.selectors import access_review_rows, changes_in_period, parameters_overview
from administration.services.alerts import alert_acknowledge
from administration.services.config import (
    config_change_approve,
    config_change_reject,
    config_change_withdraw,
    config_propose,
    value_in_force_text,
)
from administration.services.reviews import review_due, review_record
from administration.services.status import system_status
from audit.signatures import SignatureError
from equipment.selectors import capture_alerts_open, capture_health
from mes.config import BY_NAME, config_get, parameter_def

VIEW_CONFIG = "administration.view_configparameter"
REVIEW_CONFIG = "administration.review_configuration"
REVIEW_ACCESS = "administration.review_access"


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    return [str(exc)]


def _report_errors(request, exc: Exception) -> None:
    for message in _errors(exc):
        messages.error(request, message)


# --- configuration -------------------------------------------------------------------------------
@permission_required(VIEW_CONFIG, raise_exception=True)
def config_list(request):
    rows = []
    for parameter in parameters_overview():
        definition = BY_NAME.get(parameter.name)
        if definition is None:  # a parameter the code no longer declares: shown, not editable
            continue
        rows.append({"p": parameter, "d": definition, "value": value_in_force_text(parameter)})
    pending = ConfigChange.objects.filter(status=ChangeStatus.PROPOSED).count()
    return render(request, "administration/config_list.html", {"rows": rows, "pending": pending})


@permission_required(VIEW_CONFIG, raise_exception=True)
def config_detail(request, pk: int):
    parameter = get_object_or_404(ConfigParameter, pk=pk)
    definition = parameter_def(parameter.name)
    form = ProposeForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("administration.propose_configchange"):
            raise PermissionDenied
        if form.is_valid():
            try:
                change = config_propose(
                    user=request.user,
                    parameter_id=parameter.pk,
                    new_value=form.cleaned_data["new_value"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error("new_value", exc)
            else:
                messages.success(request, _("Change request proposed. It takes effect once approved by QA."))
                return redirect("administration:change_detail", pk=change.pk)
    changes = parameter.changes.select_related("proposed_by", "decided_by").order_by("-proposed_at", "-id")
    context = {
        "parameter": parameter,
        "definition": definition,
        "value": value_in_force_text(parameter),
        "changes": changes,
        "form": form,
        "can_propose": request.user.has_perm("administration.propose_configchange"),
    }
    return render(request, "administration/config_detail.html", context)


@permission_required(VIEW_CONFIG, raise_exception=True)
def change_list(request):
    status = request.GET.get("status", ChangeStatus.PROPOSED)
    changes = ConfigChange.objects.select_related("parameter", "proposed_by", "decided_by")
    if status in ChangeStatus.values:
        changes = changes.filter(status=status)
    return render(
        request,
        "administration/change_list.html",
        {"changes": changes[:200], "status": status, "statuses": ChangeStatus.choices},
    )


_DECISIONS = signed_decisions(config_change_approve, config_change_reject, config_change_withdraw)


@permission_required(VIEW_CONFIG, raise_exception=True)
def change_detail(request, pk: int):
    change = get_object_or_404(ConfigChange.objects.select_related("parameter", "proposed_by", "decided_by"), pk=pk)
    if request.method == "POST":
        decision_post(request, _DECISIONS, change.pk)
        return redirect("administration:change_detail", pk=change.pk)
    actions = CHANGE_MACHINE.available(change, request.user)
    if change.proposed_by_id != request.user.pk:
        actions = [a for a in actions if a.name != "withdraw"]
    else:
        actions = [a for a in actions if a.name != "approve"]  # never one's own
    return render(
        request,
        "administration/change_detail.html",
        {
            "change": change,
            "actions": actions,
            "signed": any(a.signature for a in actions),
            "definition": BY_NAME.get(change.parameter.name),
        },
    )


@permission_required(REVIEW_CONFIG, raise_exception=True)
def config_review(request):
    period = PeriodForm(request.GET or None)
    start, end = period.period()
    changes = list(changes_in_period(start, end))
    reviews = PeriodicReview.objects.filter(kind=ReviewKind.CONFIGURATION).select_related("reviewer")[:20]
    form = ReviewForm(
        initial={"kind": ReviewKind.CONFIGURATION, "period_start": start, "period_end": end}, prefix="review"
    )
    context = {
        "period": period,
        "start": start,
        "end": end,
        "changes": changes,
        "reviews": reviews,
        "review_form": form,
        "due": review_due(ReviewKind.CONFIGURATION),
        "can_sign": request.user.has_perm("administration.record_review"),
        "kind": ReviewKind.CONFIGURATION,
    }
    return render(request, "administration/config_review.html", context)


@permission_required(REVIEW_ACCESS, raise_exception=True)
def access_review(request):
    days = config_get("auth.inactive_account_days")
    rows = access_review_rows(days)
    reviews = PeriodicReview.objects.filter(kind=ReviewKind.ACCESS).select_related("reviewer")[:20]
    today = timezone.localdate()
    form = ReviewForm(initial={"kind": ReviewKind.ACCESS, "period_end": today}, prefix="review")
    context = {
        "rows": rows,
        "inactive_days": days,
        "reviews": reviews,
        "review_form": form,
        "due": review_due(ReviewKind.ACCESS),
        "can_sign": request.user.has_perm("administration.record_review"),
        "kind": ReviewKind.ACCESS,
        "summary": {
            "users": len(rows),
            "active": sum(1 for r in rows if r["user"].is_active),
            "inactive": sum(1 for r in rows if r["inactive"]),
            "locked": sum(1 for r in rows if r["locked"]),
        },
    }
    return render(request, "administration/access_review.html", context)


@require_POST
@permission_required("administration.record_review", raise_exception=True)
def review_sign(request):
    form = ReviewForm(request.POST, prefix="review")
    kind = request.POST.get("review-kind", ReviewKind.ACCESS)
    back = "administration:config_review" if kind == ReviewKind.CONFIGURATION else "administration:access_review"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    try:
        review_record(
            user=request.user,
            kind=data["kind"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            findings=data["findings"],
            password=data["password"],
        )
    except (ValidationError, SignatureError, PermissionDenied) as exc:
        _report_errors(request, exc)
    else:
        messages.success(request, _("Review signed and recorded."))
    return redirect(back)


# --- system status and alerts --------------------------------------------------------------------------
@permission_required("administration.view_system_status", raise_exception=True)
def status(request):
    return render(
        request,
        "administration/status.html",
        {
            "s": system_status(),
            "backup_dir": settings.MES_BACKUP_DIR,
            "endpoints": capture_health(),
            "capture_alerts": capture_alerts_open(),
        },
    )


@permission_required("administration.view_securityalert", raise_exception=True)
def alert_list(request):
    show = request.GET.get("show", "open")
    alerts = SecurityAlert.objects.select_related("acknowledged_by")
    if show == "open":
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return render(
        request,
        "administration/alert_list.html",
        {
            "alerts": alerts[:200],
            "show": show,
            "form": AcknowledgeForm(),
            "can_ack": request.user.has_perm("administration.change_securityalert"),
        },
    )


@require_POST
@permission_required("administration.change_securityalert", raise_exception=True)
def alert_ack(request, pk: int):
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            alert_acknowledge(user=request.user, alert_id=pk, comment=form.cleaned_data["comment"])
        except (ValidationError, PermissionDenied) as exc:
            _report_errors(request, exc)
        else:
            messages.success(request, _("Alert acknowledged."))
    else:
        messages.error(request, _("Say what you found or did."))
    return redirect("administration:alert_list")
