"""The batch record PDF: complete content, Chinese text rendered, missing glyphs refused, checksum."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from batches.models import BatchRecord
from batches.pdf import missing_glyphs
from tests.batches.conftest import PW, fresh, issue_all, run_all_steps


@pytest.mark.req("BAT-11")
def test_pdf_generated_by_task_with_checksum_and_chinese(running, users, client):
    from batches import services as s
    from batches.tasks import batch_record_pdf

    batch = running["batch"]
    issue_all(batch, users, running["lots"])
    run_all_steps(batch, users, values={"Impeller speed": "150"})
    s.batch_complete(user=fresh(users["operator"]), batch=batch, password=PW, output_quantity="190")
    result = batch_record_pdf.apply(args=(batch.pk, users["qc"].pk)).get()
    record = BatchRecord.objects.get(batch=batch)
    pdf = bytes(record.pdf)
    assert pdf.startswith(b"%PDF") and result["pages"] >= 1
    assert record.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    client.force_login(users["qc"])
    page = client.get(reverse("batches:record", kwargs={"number": batch.number}))
    assert record.pdf_sha256.encode() in page.content and "制粒".encode() in page.content
    download = client.get(reverse("batches:pdf", kwargs={"number": batch.number}))
    assert download["Content-Type"] == "application/pdf" and download.content == pdf


@pytest.mark.req("BAT-11")
def test_missing_glyph_is_refused(running, users):
    from audit.context import audit_context
    from batches.models import Entry
    from batches.pdf import render_pdf

    assert missing_glyphs("<p>制粒 Granulation ± °C</p>") == set()
    assert missing_glyphs("<p>\U00017000</p>") == {"\U00017000"}
    entry = Entry.objects.filter(batch=running["batch"]).first()
    with audit_context(action="test.glyph"):
        entry.name_zh = "\U00017000"  # a Tangut character: no installed font has it
        entry.save()
    with pytest.raises(ValidationError, match="missing glyphs"):
        render_pdf(running["batch"])
