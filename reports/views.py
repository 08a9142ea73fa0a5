"""Report pages: per-type report with filters and exports, the plant dashboard, generated reports
(review, PDF, distribution) and the user's subscriptions. Thin: builders compute, services act."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from audit.services import audit_record
from audit.signatures import SignatureError
from batches.models import Batch, BatchStatus
from equipment.models import Equipment
from equipment.services.oee import Oee, oee_for_equipment
from mes.dbrouting import replica_reads
from mes.workflow import TransitionNotAllowed  # noqa: F401 - a ValidationError subclass
from quality.models.deviations import OPEN_DEVIATION_STATES, Deviation
from reports import builders, charts, exports, kpis, pdf, services, sources
from reports import dashboard as dashboard_figures
from reports.builders import _unit_label
from reports.forms import PERIOD_KINDS, FilterForm, SubscriptionForm
from reports.models import REPORT_MACHINE, Distribution, Frequency, Report, ReportStatus, Subscription

VIEW = "reports.view_report"


def _error(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _form(request) -> FilterForm:
    data = request.GET.copy() if "start" in request.GET else {**FilterForm.initial_period(), **request.GET.dict()}
    return FilterForm(data)


@replica_reads
@permission_required(VIEW, raise_exception=True)
def report(request, kind: str):
    """A report type over a period: summary, charts, tables; CSV / Excel / PDF of the same data."""
    if kind not in dict(PERIOD_KINDS):
        raise Http404
    form = _form(request)
    if not form.is_valid():
        return render(request, "reports/report_page.html", {"form": form, "kind": kind, "kinds": PERIOD_KINDS,
                                                             "data": None, "export_base": "?"})  # fmt: skip
    filters = form.filters()
    if request.method == "POST" and request.user.has_perm("reports.add_report"):
        try:
            rep = services.report_generate(kind=kind, filters=filters, user=request.user)
        except ValidationError as exc:
            return HttpResponse(_error(exc), status=400)
        return redirect("reports:report_detail", pk=rep.pk)
    data = builders.build(kind, filters)
    fmt = request.GET.get("format", "")
    now = timezone.localtime()
    header = pdf.report_header(data, generated_at=now, data_version=sources.data_version())
    if fmt:
        return _export(request, data, header, fmt)
    query = urlencode(filters.as_dict())
    return render(
        request,
        "reports/report_page.html",
        {"form": form, "kind": kind, "kinds": PERIOD_KINDS, "data": data, "header": header,
         "export_base": f"?{query}", "can_generate": request.user.has_perm("reports.add_report")},
    )  # fmt: skip


def _export(request, data: builders.ReportData, header, fmt: str) -> HttpResponse:
    stamp = f"{data.kind}-{data.filters.start:%Y%m%d}-{data.filters.end:%Y%m%d}"
    audit_record(
        action=f"reports.export.{fmt}", actor=request.user, new={"report": data.kind, **data.filters.as_dict()}
    )
    if fmt == "csv":
        table = next((t for t in data.tables if t.key == request.GET.get("table")), None)
        if table is None:
            raise Http404
        response = HttpResponse(exports.table_csv(table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stamp}-{table.key}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            exports.report_xlsx(data, header),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{stamp}.xlsx"'
        return response
    if fmt == "pdf":
        response = HttpResponse(pdf.render_pdf(data, header), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{stamp}.pdf"'
        return response
    raise Http404


@replica_reads
@permission_required("reports.view_dashboard", raise_exception=True)
def dashboard(request):
    """Supervisor's plant dashboard: month-to-date KPIs, OEE per line over the last 24 hours."""

    now = timezone.now()
    today = timezone.localdate()
    filters = sources.Filters(today.replace(day=1), today)
    summary = dashboard_figures.period_summary(filters)
    out, rft = summary.output, summary.rft
    planned = sum(r.planned for r in out)
    actual = sum(r.actual for r in out)
    adherence = dashboard_figures.schedule_adherence(filters, now)
    statuses = dict(
        (s, n) for s, n in Batch.objects.values_list("status").annotate(n=_count()).order_by("status")
    )  # fmt: skip
    running = statuses.get("in_progress", 0)  # from the status chart's counts: one query less
    expiring = dashboard_figures.expiring_lot_count(today, builders.EXPIRY_DAYS)
    to_review = Report.objects.filter(status=ReportStatus.GENERATED).count()
    open_devs = _open_deviations()
    url = reverse("reports:report", args=["production"])
    tiles = [
        (gettext("Batches in progress"), running, "ok", reverse("reports:report", args=["production"])),
        (gettext("Output vs plan"), _pct(kpis._pct(actual, planned)), _tone(kpis._pct(actual, planned), 95, 85), url),
        (gettext("Right first time"), _pct(rft.pct), _tone(rft.pct, 95, 85), reverse("reports:report", args=["quality"])),
        (gettext("Schedule adherence"), _pct(adherence.pct), _tone(adherence.pct, 90, 75), url),
        (gettext("Lots expiring within 30 days"), expiring, "warn" if expiring else "ok",
         reverse("reports:report", args=["inventory"])),
        (gettext("Open deviations"), open_devs, "danger" if open_devs else "ok",
         reverse("reports:report", args=["quality"])),
        (gettext("Reports awaiting review"), to_review, "warn" if to_review else "ok", reverse("reports:report_list")),
    ]  # fmt: skip
    equipment = list(Equipment.objects.select_related("line").order_by("line__code", "code"))
    per = oee_for_equipment(equipment, now - dt.timedelta(hours=24), now)
    lines: dict[str, Oee] = {}
    for eq in equipment:
        key = eq.line.code if eq.line else "—"
        lines.setdefault(key, Oee(key)).add(per[eq.pk])
    oee_rows = [
        [o.label]
        + [None if v is None else round(v * 100, 1) for v in (o.availability, o.performance, o.quality, o.oee)]
        for o in lines.values()
    ]
    return render(
        request,
        "reports/dashboard.html",
        {
            "tiles": tiles,
            "start": filters.start,
            "end": filters.end,
            "now": timezone.localtime(now),
            "oee": oee_rows,
            "output_chart": _output_charts(out),
            "status_chart": charts.bar_chart(
                gettext("Batches by status"),
                [_status_label(s) for s in statuses],
                [(gettext("Batches"), [float(n) for n in statuses.values()])],
            ),
        },
    )


def _open_deviations() -> int:
    return Deviation.objects.filter(status__in=OPEN_DEVIATION_STATES).count()


def _count():
    return Count("id")


def _status_label(status: str) -> str:
    return str(dict(BatchStatus.choices).get(status, status))


def _pct(v) -> str:
    return "—" if v is None else f"{v} %"


def _tone(v, good, warn) -> str:
    if v is None:
        return "ok"
    return "ok" if v >= good else ("warn" if v >= warn else "danger")


@replica_reads
@permission_required(VIEW, raise_exception=True)
def report_list(request):
    qs = Report.objects.select_related("generated_by").order_by("-generated_at", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "reports/report_list.html", {"page": page})


@permission_required(VIEW, raise_exception=True)
def report_detail(request, pk: int):
    report_obj = get_object_or_404(Report.objects.select_related("generated_by", "reviewed_by", "batch"), pk=pk)
    error = notice = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "review":
                services.report_review(
                    user=request.user,
                    report_id=pk,
                    password=request.POST.get("password", ""),
                    reason=request.POST.get("reason", ""),
                )
                return redirect("reports:report_detail", pk=pk)
            if action == "distribute" and request.user.has_perm("reports.distribute_report"):
                dist = services.report_distribute(
                    report=report_obj, recipients=request.POST.get("recipients", "").split(","), user=request.user
                )
                notice = (
                    gettext("Sent.") if dist.status == "sent" else gettext("Sending failed: %(e)s") % {"e": dist.error}
                )
        except ValidationError as exc:
            error = _error(exc)
        except SignatureError as exc:
            error = str(exc)
        report_obj.refresh_from_db()
    can_review = any(t.name == "review" for t in REPORT_MACHINE.available(report_obj, request.user))
    can_distribute = report_obj.status == ReportStatus.REVIEWED and request.user.has_perm("reports.distribute_report")
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report_obj,
            "error": error,
            "notice": notice,
            "can_review": can_review,
            "can_distribute": can_distribute,
            "distributions": Distribution.objects.filter(report=report_obj).order_by("-sent_at"),
        },
        status=400 if error else 200,
    )


@permission_required(VIEW, raise_exception=True)
def report_pdf(request, pk: int):
    """The stored PDF, exactly as generated (its hash is on the report record)."""
    report_obj = get_object_or_404(Report.objects.select_related("file"), pk=pk)
    audit_record(action="reports.report.download", actor=request.user, obj=report_obj)
    response = HttpResponse(bytes(report_obj.file.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="report-{report_obj.pk}.pdf"'
    return response


@permission_required("reports.view_subscription", raise_exception=True)
def subscriptions(request):
    """The user's own subscriptions: subscribe, change the schedule or address, pause."""
    error = ""
    form = SubscriptionForm(initial={"email": request.user.email})
    if request.method == "POST":
        try:
            if request.POST.get("subscription"):
                services.subscription_update(
                    user=request.user,
                    subscription_id=int(request.POST["subscription"]),
                    frequency=request.POST.get("frequency", ""),
                    email=request.POST.get("email", "").strip(),
                    active=bool(request.POST.get("active")),
                )
                return redirect("reports:subscriptions")
            form = SubscriptionForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                services.subscription_create(
                    user=request.user, kind=d["kind"], frequency=d["frequency"], email=d["email"],
                    filters={"product": d.get("product") or "", "line": d.get("line") or ""},
                )  # fmt: skip
                return redirect("reports:subscriptions")
        except (ValidationError, ValueError) as exc:
            error = _error(exc) if isinstance(exc, ValidationError) else str(exc)
    subs = Subscription.objects.filter(user=request.user).order_by("kind", "id")

    return render(
        request,
        "reports/subscriptions.html",
        {"subscriptions": subs, "form": form, "error": error, "frequencies": Frequency.choices},
        status=400 if error or form.errors else 200,
    )


@replica_reads
@permission_required(VIEW, raise_exception=True)
def production(request):
    """The menu's entry point: the production report of the current month."""
    return report(request, "production")


def _output_charts(rows) -> str:
    """One chart per unit, so an axis never adds kilograms to pieces."""
    parts = []
    for unit in sorted({r.unit for r in rows}) or [""]:
        mine = [r for r in rows if r.unit == unit]
        parts.append(
            charts.bar_chart(
                gettext("Output vs plan per product (%(unit)s)") % {"unit": _unit_label(unit)},
                [r.key for r in mine],
                [
                    (gettext("Planned"), [float(r.planned) for r in mine]),
                    (gettext("Produced"), [float(r.actual) for r in mine]),
                ],
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - our own SVG, values escaped by charts
