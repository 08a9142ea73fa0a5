"""The batch record PDF (WeasyPrint): the complete, human-readable record.

Block markup (one block per entry) rather than long tables: WeasyPrint lays tables out several
times, so a 20-step record with hundreds of entries renders much faster as blocks. A missing glyph
(for example Chinese text without a CJK font) is an error, never a silently empty box.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import io
import logging
import re
import subprocess

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.models import Signature
from batches.models import Batch, BatchRecord, Entry, EntryCorrection, StepAttempt, refuse_if_archived
from batches.services import batch_exceptions
from materials.models import LedgerEntry


def record_context(batch: Batch) -> dict:
    """Everything the record shows, loaded in a fixed number of queries."""
    steps = list(batch.steps.select_related("performed_by", "verified_by", "started_by", "equipment"))
    entries = list(Entry.objects.filter(batch=batch).select_related("entered_by"))
    corrections: dict[int, list] = {}
    for c in EntryCorrection.objects.filter(batch=batch).select_related("corrected_by"):
        corrections.setdefault(c.entry_id, []).append(c)
    by_step: dict[int, list] = {}
    for e in entries:
        e.correction_list = corrections.get(e.pk, [])
        by_step.setdefault(e.step_id, []).append(e)

    attempts: dict[int, list] = {}
    for a in StepAttempt.objects.filter(batch=batch).select_related("reopened_by"):
        attempts.setdefault(a.step_id, []).append(a)
    for st in steps:
        st.entry_list = by_step.get(st.pk, [])
        st.attempt_list = attempts.get(st.pk, [])
    record = BatchRecord.objects.filter(batch=batch).first()
    ids = [str(batch.pk)]
    sigs = (
        list(Signature.objects.filter(object_type="batches.batch", object_id__in=ids).order_by("signed_at"))
        + list(
            Signature.objects.filter(
                object_type="batches.stepexecution", object_id__in=[str(x.pk) for x in steps]
            ).order_by("signed_at")
        )
        + list(
            Signature.objects.filter(
                object_type="batches.lineclearance",
                object_id__in=[str(pk) for pk in batch.clearances.values_list("pk", flat=True)],
            ).order_by("signed_at")
        )
    )
    sigs.sort(key=lambda x: x.signed_at)

    ledger = list(
        LedgerEntry.objects.filter(batch=batch)
        .select_related("lot__material", "actor", "dispense__balance")
        .order_by("id")
    )
    return {
        "batch": batch,
        "record": record,
        "steps": steps,
        "signatures": sigs,
        "ledger": ledger,
        "exceptions": batch_exceptions(batch) if record else [],
        "generated_at": timezone.now(),
    }


class _GlyphWatcher(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.problems: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if "glyph" in message.lower() or "font" in message.lower():
            self.problems.append(message)


PDF_FONTS = ("Noto Sans CJK SC", "DejaVu Sans")  # the families batches/record_pdf.html asks for
_COVERAGE: set[int] | None = None


def _font_coverage() -> set[int]:
    """The code points the PDF fonts can draw (fontconfig finds the files, fontTools reads the cmaps)."""
    global _COVERAGE
    if _COVERAGE is None:
        from fontTools.ttLib import TTCollection, TTFont

        covered: set[int] = set()
        for family in PDF_FONTS:
            path = subprocess.run(
                ["fc-match", "--format=%{file}", family], capture_output=True, text=True, check=True
            ).stdout.strip()
            fonts = TTCollection(path, lazy=True).fonts[:1] if path.endswith(".ttc") else [TTFont(path, lazy=True)]
            for font in fonts:
                covered.update(font.getBestCmap() or {})
        _COVERAGE = covered
    return _COVERAGE


def missing_glyphs(html: str) -> set[str]:
    """Characters of the rendered text that no PDF font can draw (they would print as empty boxes)."""

    text = html_lib.unescape(re.sub(r"<style.*?</style>|<[^>]+>", " ", html, flags=re.S))
    coverage = _font_coverage()
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) >= 32 and ord(ch) not in coverage}


def render_pdf(batch: Batch) -> tuple[bytes, int]:
    """Render the record to PDF bytes and page count; refuse on any missing-glyph warning."""
    import weasyprint

    html = render_to_string("batches/record_pdf.html", record_context(batch))
    watcher = _GlyphWatcher()
    loggers = [logging.getLogger("weasyprint"), logging.getLogger("fontTools")]
    for lg in loggers:
        lg.addHandler(watcher)
    try:
        document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render()
        buffer = io.BytesIO()
        document.write_pdf(buffer)
    finally:
        for lg in loggers:
            lg.removeHandler(watcher)
    missing = missing_glyphs(html)
    if watcher.problems or missing:
        problems = watcher.problems[:3] + ([" ".join(sorted(missing))[:60]] if missing else [])
        raise ValidationError(_("The PDF is missing glyphs: %(p)s") % {"p": "; ".join(problems)})
    return buffer.getvalue(), len(document.pages)


def batch_record_pdf_store(*, batch_id: int, user=None) -> BatchRecord:
    """Render and store the PDF with its SHA-256 (never for an archived record: it is final)."""
    batch = Batch.objects.get(pk=batch_id)
    refuse_if_archived(batch.pk)
    pdf, pages = render_pdf(batch)
    with transaction.atomic(), audit_context(actor=user, action="batches.record.pdf"):
        record = BatchRecord.objects.select_for_update().get(batch=batch)
        record.pdf = pdf
        record.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        record.pdf_pages = pages
        record.pdf_generated_at = timezone.now()
        record.save()
    return record
