"""The validation report: one PDF (WeasyPrint) in English and Chinese, assembled from the evidence.

System description, the URS (requirement catalogue), the traceability matrix requirement → tests →
result, every IQ line, the OQ results, the PQ screenshots and figures, the environment, the deviations
found during execution, what changed since the previous version, and the signature blocks.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from django.template.loader import render_to_string
from django.utils.translation import gettext_noop

from validation import oq
from validation.checks import both
from validation.evidence import STAGES, environment, now_text, read_stage

HEADINGS = {
    "title": gettext_noop("Validation report"),
    "subtitle": gettext_noop("Installation, operational and performance qualification"),
    "system": gettext_noop("System description"),
    "system_text": gettext_noop(
        "Manufacturing Execution System for GMP plants: production orders, electronic batch records, "
        "equipment, materials and genealogy, quality control and release, reports, an append-only hash-chained "
        "audit trail with Part 11 electronic signatures, and the links to ERP, LIMS, QMS, WMS and plant equipment."
    ),
    "environment": gettext_noop("Environment"),
    "urs": gettext_noop("User requirements (requirement catalogue)"),
    "matrix": gettext_noop("Traceability matrix: requirement → tests → result"),
    "iq": gettext_noop("Installation qualification (IQ)"),
    "oq": gettext_noop("Operational qualification (OQ)"),
    "pq": gettext_noop("Performance qualification (PQ)"),
    "figures": gettext_noop("Key figures on this hardware"),
    "screens": gettext_noop("Plant-day screenshots"),
    "deviations": gettext_noop("Deviations found during execution"),
    "changes": gettext_noop("Changes since the previous version"),
    "signatures": gettext_noop("Signatures"),
    "executed": gettext_noop("Executed by"),
    "reviewed": gettext_noop("Reviewed by"),
    "approved": gettext_noop("Approved by QA"),
    "sign_note": gettext_noop(
        "QA approves this report in the application with an electronic signature (meaning: approved — "
        "validation report) bound to this file's SHA-256."
    ),  # fmt: skip
    "not_run": gettext_noop("Not executed"),
    "none": gettext_noop("None"),
    "result": gettext_noop("Result"),
    "passed": gettext_noop("Passed"),
    "failed": gettext_noop("Failed"),
    "area": gettext_noop("Check area"),
    "info": gettext_noop("Information"),
    "check": gettext_noop("Check"),
    "expected": gettext_noop("Expected"),
    "found": gettext_noop("Found"),
    "requirement": gettext_noop("Requirement"),
    "tests": gettext_noop("Test scripts"),
    "time": gettext_noop("Time (s)"),
    "figure": gettext_noop("Figure"),
    "value": gettext_noop("Value"),
    "target": gettext_noop("Target"),
    "version": gettext_noop("Version"),
    "generated": gettext_noop("Generated"),
    "name_date": gettext_noop("Name, signature, date"),
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
        "iq": {
            f"{e['check'] % e['params'] if e['params'] else e['check']}": f"{e['found']} ({e['status']})"
            for e in iq["lines"]
        },  # fmt: skip
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
    """The screenshots, scaled to the printed width (full-page captures would make a PDF of hundreds of MB)."""
    shown = []
    for name in names:
        path = folder / name
        if path.exists():
            shown.append({"name": path.name, "src": "data:image/jpeg;base64," + _thumbnail(path)})
    return shown


def _thumbnail(path: Path, width: int = 700, max_height: int = 1400) -> str:
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.width > width:
            image = image.resize((width, round(image.height * width / image.width)))
        image = image.crop((0, 0, image.width, min(image.height, max_height)))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode()


def render(data: dict, folder: Path, *, version: int, changes: list[str], executed_by: str) -> bytes:
    from weasyprint import HTML

    pq = data["stages"]["pq"] or {}
    screens = _images(folder, ((pq.get("scenario") or {}).get("screenshots") or []))
    context = {**data, "H": {k: both(v) for k, v in HEADINGS.items()}, "version": version, "changes": changes,
               "screens": screens, "executed_by": executed_by}  # fmt: skip
    html = render_to_string("validation/report_pdf.html", context)
    return HTML(string=html).write_pdf()
