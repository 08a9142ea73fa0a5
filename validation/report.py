"""The validation report: one PDF (WeasyPrint) in English and Chinese, assembled from the evidence.

System description, the URS (requirement catalogue), the traceability matrix requirement → tests →
result, every IQ line, the OQ results, the PQ screenshots and figures, the environment, the deviations
found during execution, what changed since the previous version, and the signature blocks.
"""

from __future__ import annotations

import base64
from pathlib import Path

from django.template.loader import render_to_string
from django.utils.translation import gettext_noop as N_

from validation import oq
from validation.checks import both
from validation.evidence import STAGES, environment, now_text, read_stage

HEADINGS = {
    "title": N_("Validation report"),
    "subtitle": N_("Installation, operational and performance qualification"),
    "system": N_("System description"),
    "system_text": N_(
        "Manufacturing Execution System for GMP plants: production orders, electronic batch records, "
        "equipment, materials and genealogy, quality control and release, reports, an append-only hash-chained "
        "audit trail with Part 11 electronic signatures, and the links to ERP, LIMS, QMS, WMS and plant equipment."
    ),
    "environment": N_("Environment"),
    "urs": N_("User requirements (requirement catalogue)"),
    "matrix": N_("Traceability matrix: requirement → tests → result"),
    "iq": N_("Installation qualification (IQ)"),
    "oq": N_("Operational qualification (OQ)"),
    "pq": N_("Performance qualification (PQ)"),
    "figures": N_("Key figures on this hardware"),
    "screens": N_("Plant-day screenshots"),
    "deviations": N_("Deviations found during execution"),
    "changes": N_("Changes since the previous version"),
    "signatures": N_("Signatures"),
    "executed": N_("Executed by"),
    "reviewed": N_("Reviewed by"),
    "approved": N_("Approved by QA"),
    "sign_note": N_("QA approves this report in the application with an electronic signature (meaning: approved — "
                    "validation report) bound to this file's SHA-256."),  # fmt: skip
    "not_run": N_("Not executed"),
    "none": N_("None"),
    "result": N_("Result"),
    "passed": N_("Passed"),
    "failed": N_("Failed"),
    "area": N_("Area"),
    "check": N_("Check"),
    "expected": N_("Expected"),
    "found": N_("Found"),
    "requirement": N_("Requirement"),
    "tests": N_("Tests"),
    "time": N_("Time (s)"),
    "figure": N_("Figure"),
    "value": N_("Value"),
    "target": N_("Target"),
    "version": N_("Version"),
    "generated": N_("Generated"),
    "name_date": N_("Name, signature, date"),
}


def collect(folder: Path) -> dict:
    """Everything the report states, read from the evidence folder."""
    stages = {stage: read_stage(stage, folder) for stage in STAGES}
    reqs = [{"id": rid, "text": text} for rid, text in oq.catalogue()]
    iq = stages["iq"]
    if iq:
        for entry in iq["lines"]:
            entry["label"] = both(entry["check"], entry["params"])
            entry["area_label"] = both(entry["area"])
    deviations = []
    for stage in STAGES:
        data = stages[stage]
        if data is None:
            deviations.append(f"{stage.upper()}: not executed")
        else:
            deviations += [f"{stage.upper()}: {d}" for d in data.get("deviations", [])]
    return {"stages": stages, "requirements": reqs, "deviations": deviations, "environment": environment(),
            "generated": now_text()}  # fmt: skip


def summary_of(data: dict) -> dict:
    """What the next version compares against: versions, IQ lines, requirement results, figures."""
    stages = data["stages"]
    iq = stages["iq"] or {"lines": []}
    oq_rows = (stages["oq"] or {}).get("requirements", [])
    figures = {f["name"]: f"{f['value']:.2f} {f['unit']}" for s in ((stages["pq"] or {}).get("figures") or {})
               .get("sections", []) for f in s["figures"]}  # fmt: skip
    return {
        "environment": data["environment"],
        "iq": {f"{e['check'] % e['params'] if e['params'] else e['check']}": f"{e['found']} ({e['status']})"
               for e in iq["lines"]},  # fmt: skip
        "oq": {r["id"]: r["status"] for r in oq_rows},
        "pq": figures,
        "passed": {s: (stages[s] or {}).get("passed") for s in STAGES},
    }


def changes_between(old: dict | None, new: dict) -> list[str]:
    """Human-readable differences between two summaries (an upgrade shows its new versions and results)."""
    if not old:
        return []
    lines = []
    for section in ("environment", "iq", "oq", "pq", "passed"):
        before, after = old.get(section, {}), new.get(section, {})
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                lines.append(f"{section}: {key}: {before.get(key, '—')} → {after.get(key, '—')}")
    return lines


def _images(folder: Path, names: list[str]) -> list[dict]:
    shown = []
    for name in names:
        path = folder / name
        if path.exists():
            shown.append({"name": path.name, "src": "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()})
    return shown


def render(data: dict, folder: Path, *, version: int, changes: list[str], executed_by: str) -> bytes:
    from weasyprint import HTML

    pq = data["stages"]["pq"] or {}
    screens = _images(folder, ((pq.get("scenario") or {}).get("screenshots") or []))
    context = {**data, "H": {k: both(v) for k, v in HEADINGS.items()}, "version": version, "changes": changes,
               "screens": screens, "executed_by": executed_by}  # fmt: skip
    html = render_to_string("validation/report_pdf.html", context)
    return HTML(string=html).write_pdf()
