"""`qualify oq` runs test scripts in a scratch database it creates and removes, and fails when a requirement
has no passing test; the report PDF lists every catalogue ID, renders Chinese, and QA's signature on it
turns invalid when a byte of the stored file changes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from pypdf import PdfReader

from validation import oq, scratch
from validation.evidence import write_stage
from validation.models import ValidationReport, ValidationReportFile
from validation.services import validation_report_approve, validation_report_create

ROOT = Path(__file__).resolve().parent.parent.parent
AUD2 = "tests/foundation/test_audit_trail.py::test_triggers_refuse_update_delete_and_truncate_even_through_raw_sql"


@pytest.mark.postgres
@pytest.mark.django_db
def test_oq_runs_in_a_scratch_database_and_fails_a_requirement_without_a_passing_test():
    run = scratch.run_tests([AUD2])
    assert run["tests"][AUD2] == {"reqs": ["AUD-2"], "outcome": "passed", "seconds": run["tests"][AUD2]["seconds"]}
    assert run["scratch_database"].startswith("test_") and run["scratch_database"] != connection.settings_dict["NAME"]
    assert not scratch.scratch_exists(run["scratch_database"])  # created and removed
    covered = oq.judge(run, [("AUD-2", "Logs cannot be tampered with.")])
    assert covered["passed"] and covered["requirements"][0]["status"] == "passed"
    gap = oq.judge(run, [("AUD-2", "Logs cannot be tampered with."), ("AUD-99", "Nothing tests this.")])
    assert not gap["passed"]
    assert [r["status"] for r in gap["requirements"]] == ["passed", "no test"]
    assert gap["deviations"] == ["AUD-99: no test"]


def test_a_marker_naming_an_unknown_requirement_fails_the_suite(tmp_path):
    sample = ROOT / "tests" / "validation" / f"test_zz_unknown_{tmp_path.name}.py"
    sample.write_text('import pytest\n\n\n@pytest.mark.req("NOPE-999")\ndef test_x():\n    assert True\n')
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", str(sample)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        sample.unlink()
    assert proc.returncode != 0
    assert "NOPE-999" in proc.stdout + proc.stderr


def _evidence(folder: Path, *, iq_ok: bool = True) -> None:
    line = {
        "area": "Database",
        "check": "Database server",
        "expected": "PostgreSQL ≥ 15",
        "found": "17",
        "status": "pass" if iq_ok else "fail",
        "params": {},
    }
    write_stage(
        "iq",
        {
            "started": "s",
            "finished": "f",
            "passed": iq_ok,
            "lines": [line],
            "deviations": [] if iq_ok else ["Database server: expected 15, found 9"],
        },
        folder,
    )
    run = {"tests": {"t::a": {"reqs": ["AUD-2"], "outcome": "passed", "seconds": 0.5}}, "returncode": 0}
    write_stage(
        "oq", {"started": "s", "finished": "f", **oq.judge(run, oq.catalogue()), "paths": ["t"], "keyword": ""}, folder
    )


@pytest.mark.django_db
@pytest.mark.req("SEC-3")
@pytest.mark.postgres  # PostgreSQL's SQL or triggers
def test_report_lists_every_requirement_renders_chinese_and_its_signature_breaks_on_a_changed_byte(
    tmp_path, users, password, client_for
):
    _evidence(tmp_path)
    report = validation_report_create(user=users["qa"], folder=tmp_path)
    pdf = bytes(ValidationReportFile.objects.get(report=report).content)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for rid, _text in oq.catalogue():
        assert rid in text
    assert "验证报告" in text and "安装确认" in text  # the Chinese headings, rendered with Noto CJK
    assert (tmp_path / "validation-report-v1.pdf").read_bytes() == pdf
    from audit.signatures import SignatureError

    with pytest.raises(SignatureError):
        validation_report_approve(user=users["qa"], report_id=report.pk, password="wrong")
    validation_report_approve(user=users["qa"], report_id=report.pk, password=password)
    page = client_for("qa").get(f"/validation/{report.pk}/")
    assert page.status_code == 200 and b"sig-ok" in page.content and b"file-changed" not in page.content
    with connection.cursor() as cursor:  # one byte of the stored file changes (the runtime role may)
        cursor.execute("UPDATE validation_validationreportfile SET content = overlay(content placing '\\x21'::bytea "
                       "from 200 for 1) WHERE report_id = %s", [report.pk])  # fmt: skip
    page = client_for("qa").get(f"/validation/{report.pk}/")
    assert b"sig-invalid" in page.content and b"file-changed" in page.content


@pytest.mark.django_db
def test_a_new_version_lists_what_changed_and_pages_are_for_qa_and_auditors(
    tmp_path, users, client_for, django_assert_max_num_queries
):
    _evidence(tmp_path)
    first = validation_report_create(folder=tmp_path)
    _evidence(tmp_path, iq_ok=False)
    second = validation_report_create(folder=tmp_path)
    assert (first.version, second.version) == (1, 2) and not second.passed
    assert "iq: Database server: 17 (pass) → 17 (fail)" in second.changes
    qa = client_for("qa")
    with django_assert_max_num_queries(12):
        listing = qa.get("/validation/")
    assert listing.status_code == 200 and b"v2" in listing.content
    assert client_for("auditor").get(f"/validation/{second.pk}/pdf/").content.startswith(b"%PDF")
    assert client_for("operator").get("/validation/").status_code == 403
    assert ValidationReport.objects.count() == 2
    assert json.loads(json.dumps(second.summary))["passed"]["iq"] is False
