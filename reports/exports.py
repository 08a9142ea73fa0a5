"""CSV and Excel exports of a report's tables (complete rows, not cut like the page)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from audit.csv_safe import csv_writer
from reports.builders import ReportData, Table


def _cell(v):
    if v is None:
        return ""
    if hasattr(v, "is_finite"):  # Decimal: Excel wants a number
        return float(v)
    return v if isinstance(v, int | float) else str(v)


def table_csv(table: Table) -> str:
    """UTF-8 CSV with a BOM so Excel opens Chinese text correctly."""
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else str(v) for v in row])
    return "\ufeff" + buf.getvalue()


def report_xlsx(data: ReportData, header: list[tuple[str, str]]) -> bytes:
    """One sheet per table, the report header (period, filters, generation time) on top."""
    wb = Workbook()
    wb.remove(wb.active)
    for table in data.tables:
        ws = wb.create_sheet(str(table.title)[:31].replace("/", "-"))
        for label, value in header:
            ws.append([str(label), str(value)])
        ws.append([])
        ws.append([str(c) for c in table.columns])
        for row in table.rows:
            ws.append([_cell(v) for v in row])
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":  # text beginning with "=" is data here, never a formula
                    cell.data_type = "s"
        for i, col in enumerate(table.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(12, len(str(col)) + 2)
    if not wb.sheetnames:
        wb.create_sheet("-")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
