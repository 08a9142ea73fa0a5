"""Deviation and CAPA pages: list, raise, detail (timeline, links, signatures), actions, CAPA board."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.models import AuditEvent
from quality import services
from quality.forms import (
    CAPACloseForm,
    CAPACreateForm,
    CAPASubmitForm,
    CloseForm,
    ConcludeForm,
    DeviationFilterForm,
    DeviationRaiseForm,
    InvestigateForm,
    SignatureForm,
)
from quality.models import CAPA, CAPA_MACHINE, DEVIATION_MACHINE, CAPAStatus, Deviation, DeviationLink
from quality.models.deviations import OPEN_DEVIATION_STATES
from quality.selectors import overdue_capas
from quality.services.deviations import deviation_close_problems, link_resolve
from quality.views.common import apply_form_errors, run_service

VIEW = "quality.view_deviation"


def _filtered(form: DeviationFilterForm):
    qs = Deviation.objects.select_related("raised_by")
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status", "")
    if status == "":
        qs = qs.filter(status__in=OPEN_DEVIATION_STATES)
    elif status != "all":
        qs = qs.filter(status=status)
    if data.get("classification"):
        qs = qs.filter(classification=data["classification"])
    if data.get("source"):
        qs = qs.filter(source=data["source"])
    if data.get("q"):
        text = data["q"].strip()
        # A record's label (batch number, lot code) is matched whole, through its index.
        linked = DeviationLink.objects.filter(label__in={text, text.upper()}).values("deviation_id")
        qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(pk__in=linked))
    return qs.order_by("-raised_at", "-pk")


def _with_counts(page) -> None:
    """Links and CAPAs per deviation of this page only (two grouped queries, not per row)."""
    ids = [d.pk for d in page]
    links = dict(DeviationLink.objects.filter(deviation_id__in=ids).values_list("deviation_id").annotate(n=Count("pk")))
    capas = dict(CAPA.objects.filter(deviation_id__in=ids).values_list("deviation_id").annotate(n=Count("pk")))
    for d in page:
        d.n_links, d.n_capas = links.get(d.pk, 0), capas.get(d.pk, 0)


@permission_required(VIEW, raise_exception=True)
def deviation_list(request):
    form = DeviationFilterForm(request.GET or None)
    page = Paginator(_filtered(form), 30).get_page(request.GET.get("page"))
    _with_counts(page)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "quality/deviation_list.html", {"form": form, "page": page, "query": query.urlencode()})


@permission_required("quality.add_deviation", raise_exception=True)
def deviation_create(request):
    form = DeviationRaiseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            links = [link_resolve(data["link_type"], data["link_ref"])] if data.get("link_type") else []
            deviation = services.deviation_raise(
                user=request.user,
                title=data["title"],
                description=data["description"],
                classification=data["classification"],
                links=links,
            )
        except ValidationError as exc:
            apply_form_errors(form, exc)
        else:
            messages.success(request, _("Deviation %(n)s raised.") % {"n": deviation.number})
            return redirect("quality:deviation_detail", pk=deviation.pk)
    return render(request, "quality/deviation_form.html", {"form": form})


def _timeline(deviation: Deviation, capas) -> list[AuditEvent]:
    """Every audit event of the deviation, its links and its CAPAs, in order."""
    q = Q(object_type="quality.deviation", object_id=str(deviation.pk))
    link_ids = [str(link.pk) for link in deviation.links.all()]
    if link_ids:
        q |= Q(object_type="quality.deviationlink", object_id__in=link_ids)
    capa_ids = [str(c.pk) for c in capas]
    if capa_ids:
        q |= Q(object_type="quality.capa", object_id__in=capa_ids)
    return list(AuditEvent.objects.filter(q).order_by("seq"))


@permission_required(VIEW, raise_exception=True)
def deviation_detail(request, pk: int):
    deviation = get_object_or_404(
        Deviation.objects.select_related("raised_by", "closed_by").prefetch_related("links"), pk=pk
    )
    capas = list(deviation.capas.select_related("owner").order_by("pk"))
    actions = DEVIATION_MACHINE.available(deviation, request.user)
    # The form offers the justification field for closing without a CAPA; the service checks it is given.
    close_problems = (
        deviation_close_problems(deviation, request.user, justification="offered")
        if deviation.status == "capa_pending"
        else []
    )
    context = {
        "deviation": deviation,
        "capas": capas,
        "actions": [a.name for a in actions],
        "close_problems": close_problems,
        "timeline": _timeline(deviation, capas),
        "investigate_form": InvestigateForm(initial={"classification": deviation.classification}),
        "conclude_form": ConcludeForm(),
        "close_form": CloseForm(),
        "capa_form": CAPACreateForm() if deviation.is_open and request.user.has_perm("quality.add_capa") else None,
    }
    return render(request, "quality/deviation_detail.html", context)


def _investigate(request, pk, data):
    return services.deviation_investigate(
        user=request.user,
        deviation_id=pk,
        password=data["password"],
        reason=data["reason"],
        classification=data.get("classification") or "",
    )


def _conclude(request, pk, data):
    return services.deviation_conclude(
        user=request.user,
        deviation_id=pk,
        root_cause=data["root_cause"],
        impact_assessment=data["impact_assessment"],
        password=data["password"],
        reason=data["reason"],
    )


def _close(request, pk, data):
    return services.deviation_close(
        user=request.user,
        deviation_id=pk,
        closure_summary=data["closure_summary"],
        password=data["password"],
        reason=data["reason"],
        no_capa_justification=data.get("no_capa_justification") or "",
    )


DEVIATION_ACTIONS = {
    "investigate": (InvestigateForm, _investigate),
    "conclude": (ConcludeForm, _conclude),
    "close": (CloseForm, _close),
}


@require_POST
@permission_required(VIEW, raise_exception=True)
def deviation_action(request, pk: int, action: str):
    if action not in DEVIATION_ACTIONS:
        raise PermissionDenied
    form_class, call = DEVIATION_ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    else:
        label = DEVIATION_MACHINE.get(action).label
        run_service(request, lambda: call(request, pk, form.cleaned_data), _("Done: %(a)s.") % {"a": label})
    return redirect("quality:deviation_detail", pk=pk)


@require_POST
@permission_required("quality.add_capa", raise_exception=True)
def capa_create(request, pk: int):
    form = CAPACreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    else:
        run_service(
            request,
            lambda: services.capa_create(user=request.user, deviation_id=pk, **form.cleaned_data),
            _("Action added."),
        )
    return redirect("quality:deviation_detail", pk=pk)


BOARD_CARDS = 60  # per column: the board is for the work in hand; the overdue list names every late one


@permission_required("quality.view_capa", raise_exception=True)
def capa_board(request):
    """Columns by state (closed: last 30 days), at most BOARD_CARDS per column, soonest due first."""
    since = timezone.now() - timezone.timedelta(days=30)
    base = CAPA.objects.select_related("owner", "deviation")
    mine = request.GET.get("mine") == "1"
    if mine:
        base = base.filter(owner=request.user)
    in_column = {
        value: Q(status=value) & (Q(closed_at__gte=since) if value == CAPAStatus.CLOSED else Q())
        for value in CAPAStatus.values
    }
    totals = base.aggregate(**{v: Count("pk", filter=q) for v, q in in_column.items()})
    columns = [
        (value, label, list(base.filter(in_column[value]).order_by("due_date", "pk")[:BOARD_CARDS]), totals[value])
        for value, label in CAPAStatus.choices
    ]
    late = overdue_capas().filter(owner=request.user) if mine else overdue_capas()
    return render(
        request,
        "quality/capa_board.html",
        {"columns": columns, "overdue": list(late[:20]), "overdue_count": late.count(), "mine": mine},
    )


@permission_required("quality.view_capa", raise_exception=True)
def capa_detail(request, pk: int):
    capa = get_object_or_404(CAPA.objects.select_related("owner", "deviation", "created_by"), pk=pk)
    return render(
        request,
        "quality/capa_detail.html",
        {
            "capa": capa,
            "actions": [t.name for t in CAPA_MACHINE.available(capa, request.user)],
            "submit_form": CAPASubmitForm(),
            "close_form": CAPACloseForm(),
            "events": AuditEvent.objects.filter(object_type="quality.capa", object_id=str(capa.pk)).order_by("seq"),
        },
    )


CAPA_ACTIONS = {
    "start": (SignatureForm, lambda r, pk, d: services.capa_start(user=r.user, capa_id=pk, reason=d["reason"])),
    "submit": (
        CAPASubmitForm,
        lambda r, pk, d: services.capa_submit(
            user=r.user, capa_id=pk, evidence=d["evidence"], password=d["password"], reason=d["reason"]
        ),
    ),
    "reopen": (SignatureForm, lambda r, pk, d: services.capa_reopen(user=r.user, capa_id=pk, reason=d["reason"])),
    "close": (
        CAPACloseForm,
        lambda r, pk, d: services.capa_close(
            user=r.user, capa_id=pk, effectiveness=d["effectiveness"], password=d["password"], reason=d["reason"]
        ),
    ),
}


@require_POST
@permission_required("quality.view_capa", raise_exception=True)
def capa_action(request, pk: int, action: str):
    if action not in CAPA_ACTIONS:
        raise PermissionDenied
    form_class, call = CAPA_ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    else:
        label = CAPA_MACHINE.get(action).label
        run_service(request, lambda: call(request, pk, form.cleaned_data), _("Done: %(a)s.") % {"a": label})
    return redirect("quality:capa_detail", pk=pk)
