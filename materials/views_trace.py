"""Genealogy pages: the expandable trace tree, its CSV export, the PDF recall report, batch balance."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.csv_safe import csv_writer
from audit.services import audit_record
from materials.batch_source import batches
from materials.genealogy import BACKWARD, FORWARD, render_tree, trace_lot
from materials.labels import render_pdf
from materials.models import Lot, StockBalance
from materials.requirements import batch_requirements
from materials.services import batch_material_balance

TRACE = "materials.view_genealogy"


def _direction(request) -> str:
    return FORWARD if request.GET.get("direction") == FORWARD else BACKWARD


def _lot_url_maker():
    """lot code -> detail URL, reversing once (a forward trace can draw thousands of links)."""
    pattern = reverse("materials:lot_detail", kwargs={"code": "LOTCODE"})
    return lambda code: pattern.replace("LOTCODE", code)


@permission_required(TRACE, raise_exception=True)
def lot_trace(request, code: str):
    lot = get_object_or_404(Lot, code=code)
    direction = _direction(request)
    trace = trace_lot(lot, direction)
    return render(
        request,
        "materials/lot_trace.html",
        {"lot": lot, "trace": trace, "direction": direction, "tree": render_tree(trace, _lot_url_maker())},
    )


def _audit_export(request, lot, direction, fmt, rows):
    with transaction.atomic():
        audit_record(
            action="materials.trace.export",
            actor=request.user,
            obj=lot,
            new={"direction": direction, "format": fmt, "rows": rows},
        )


def _containers_text(trace, link) -> str:
    """The dispensed containers on a link's edge for the CSV: code, net, balance, time; "; " between."""
    return "; ".join(
        " ".join(x for x in (c.code, c.net_text, c.balance_code, c.at.isoformat() if c.at else "") if x)
        for c in trace.containers_of(link)
    )


@permission_required(TRACE, raise_exception=True)
def trace_csv(request, code: str):
    lot = get_object_or_404(Lot, code=code)
    direction = _direction(request)
    trace = trace_lot(lot, direction)
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow(
        [
            "level",
            "from_lot",
            "batch",
            "batch_status",
            "lot",
            "material_code",
            "material_name",
            "material_name_zh",
            "lot_status",
            "expiry_date",
            "containers",
        ]
    )
    rows = 0
    for level, link, node in trace.rows():
        parent = trace.lots[link.parent_id]
        writer.writerow(
            [
                level,
                parent.code,
                link.batch_number,
                link.batch_status,
                node.code if node else "",
                node.material_code if node else "",
                node.material_name if node else "",
                node.material_name_zh if node else "",
                node.effective_status if node else "",
                node.expiry_date.isoformat() if node else "",
                _containers_text(trace, link),
            ]
        )
        rows += 1
    _audit_export(request, lot, direction, "csv", rows)
    response = HttpResponse("\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="trace-{direction}-{lot.code}.csv"'
    return response


@permission_required(TRACE, raise_exception=True)
def trace_pdf(request, code: str):
    """The recall report: every batch and lot reached, with where the stock of each lot is now."""
    lot = get_object_or_404(Lot, code=code)
    direction = _direction(request)
    trace = trace_lot(lot, direction)
    stock: dict[int, list] = {}
    for b in (
        StockBalance.objects.filter(lot_id__in=list(trace.lots), quantity__gt=0)
        .select_related("location")
        .order_by("location__code")
    ):
        stock.setdefault(b.lot_id, []).append(b)
    levels = trace.levels()
    nodes = sorted(
        (n for n in trace.lots.values() if n.id != trace.root.id),
        key=lambda n: (levels.get(n.id, 99), n.material_code, n.code),
    )
    rows = [{"node": n, "level": levels.get(n.id), "stock": stock.get(n.id, [])} for n in nodes]
    batches = sorted({(link.batch_number, link.batch_status) for link in trace.links})
    pdf = render_pdf(
        "materials/pdf/recall.html",
        {
            "lot": lot,
            "root": trace.root,
            "direction": direction,
            "rows": rows,
            "batches": batches,
            "root_stock": stock.get(trace.root.id, []),
            "containers": trace.container_rows(),
            "now": timezone.localtime(),
            "user": request.user,
        },
    )
    _audit_export(request, lot, direction, "pdf", len(rows))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="recall-{direction}-{lot.code}.pdf"'
    return response


@permission_required(TRACE, raise_exception=True)
def batch_balance(request, number: str):
    batch = get_object_or_404(batches().select_related("product"), number=number)
    balance = batch_material_balance(batch=batch, requirements=batch_requirements(batch))
    return render(
        request, "materials/batch_balance.html", {"batch": batch, "balance": balance, "title": _("Material balance")}
    )
