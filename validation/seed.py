"""Demo validation report: the IQ of the demo installation itself (SQLite, filesystem broker: real
deviations), waiting for QA's approval (idempotent)."""

from __future__ import annotations

import tempfile
from pathlib import Path

SEED_ORDER = 95


def seed(stdout=None) -> None:
    from validation.evidence import now_text, write_stage
    from validation.iq import run_iq
    from validation.models import ValidationReport
    from validation.services import validation_report_create

    if ValidationReport.objects.exists():
        return
    with tempfile.TemporaryDirectory(prefix="mes-demo-iq-") as tmp:
        folder = Path(tmp)
        started = now_text()
        lines = run_iq()
        failed = [e for e in lines if not e.ok]
        deviations = [f"{e.check % e.params if e.params else e.check}: expected {e.expected}, found {e.found}"
                      for e in failed]  # fmt: skip
        write_stage("iq", {"started": started, "finished": now_text(), "passed": not failed,
                           "lines": [e.as_dict() for e in lines], "deviations": deviations}, folder)  # fmt: skip
        report = validation_report_create(folder=folder, executed_by="seed_demo")
    if stdout:
        stdout.write(f"validation report v{report.version} waiting for QA's approval\n")
