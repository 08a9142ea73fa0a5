"""Report PDFs: rendered by WeasyPrint from a template, Chinese text in Noto CJK (system fonts)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext, pgettext

from reports.builders import ReportData


def report_header(data: ReportData, *, generated_at, data_version: int, status: str = "") -> list[tuple[str, str]]:
    """What every report states at its top: period, filters, generation time, data version."""
    f = data.filters
    filters = ", ".join(
        f"{label}: {value}" for label, value in ((gettext("Product"), f.product), (gettext("Line"), f.line)) if value
    )
    rows = [
        (gettext("Period"), f"{f.start.isoformat()} – {f.end.isoformat()}"),
        (pgettext("report parameters", "Filters"), filters or gettext("none")),
        (gettext("Generated at"), generated_at.strftime("%Y-%m-%d %H:%M:%S %Z")),
        (gettext("Data version"), gettext("audit trail entry %(seq)s") % {"seq": data_version}),
    ]
    if status:
        rows.append((gettext("Review"), status))
    return rows


def render_pdf(data: ReportData, header: list[tuple[str, str]]) -> bytes:
    from weasyprint import HTML

    html = render_to_string("reports/pdf/report.html", {"data": data, "header": header})
    return HTML(string=html).write_pdf()
