"""Report pages, exports, PDFs, review, distribution by e-mail, subscriptions (REP-2, REP-3, BAT-15)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from audit.models import AuditEvent
from audit.signatures import signatures_for
from reports import services
from reports.models import Distribution, Report, ReportFile, Subscription
from reports.sources import Filters
from tests.reports.conftest import DAY, move

pytestmark = pytest.mark.django_db

PERIOD = {"start": DAY.isoformat(), "end": DAY.isoformat()}


@pytest.mark.req("REP-2")
@pytest.mark.parametrize("kind", ["production", "quality", "efficiency", "inventory", "spc"])
def test_every_report_page_renders_and_exports(client_for, batches, kind, django_assert_max_num_queries):
    c = client_for("analyst")
    url = reverse("reports:report", args=[kind])
    with django_assert_max_num_queries(40):
        page = c.get(url, PERIOD)
    assert page.status_code == 200
    xlsx = c.get(url, {**PERIOD, "format": "xlsx"})
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames and wb.worksheets[0]["A1"].value == "Period"
    key = page.context["data"].tables[0].key
    csv = c.get(url, {**PERIOD, "format": "csv", "table": key})
    assert csv.status_code == 200 and csv.content.decode("utf-8-sig").splitlines()[0]
    pdf = c.get(url, {**PERIOD, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.req("REP-2")
def test_production_page_shows_the_computed_figures(client_for, batches):
    page = client_for("supervisor").get(reverse("reports:report", args=["production"]), PERIOD)
    html = page.content.decode()
    assert "95.7" in html and "A-2" in html and "<svg" in html
    rows = list(
        load_workbook(
            io.BytesIO(
                client_for("supervisor")
                .get(reverse("reports:report", args=["production"]), {**PERIOD, "format": "xlsx"})
                .content
            )
        )
        .worksheets[0]
        .values
    )
    assert ("FG-A", 2, 300.0, 287.0, "kg", 95.7) in rows  # fmt: skip


def test_the_product_filter_names_products_in_the_readers_language(client_for, plant):
    """The report pages' product list showed the English names on the Chinese screens (issue 17)."""
    client = client_for("supervisor")
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("reports:report", args=["production"]), PERIOD).content.decode()
    assert "FG-A 片剂" in html and "Product FG-A" not in html


@pytest.mark.req("REP-2")
def test_pdf_header_states_period_filters_time_and_data_version_in_chinese(batches):
    from django.utils import translation
    from pypdf import PdfReader  # noqa: PLC0415 - only this test needs it

    with translation.override("zh-hans"):
        report = services.report_generate(kind="production", filters=Filters(DAY, DAY, product="FG-A"))
    text = PdfReader(io.BytesIO(bytes(report.file.content))).pages[0].extract_text()
    assert DAY.isoformat() in text and "FG-A" in text
    assert str(report.data_version) in text and report.data_version > 0
    assert "生产报告" in text  # the title in Chinese, with the CJK font embedded


@pytest.mark.req("REP-3")
def test_review_is_signed_by_the_supervisor_only(client_for, batches, users, password):
    report = services.report_generate(kind="production", filters=Filters(DAY, DAY))
    url = reverse("reports:report_detail", args=[report.pk])
    analyst_page = client_for("analyst").get(url)
    assert b"review-form" not in analyst_page.content
    sup = client_for("supervisor")
    assert b"review-form" in sup.get(url).content
    bad = sup.post(url, {"action": "review", "password": "wrong"})
    assert bad.status_code == 400
    assert sup.post(url, {"action": "review", "password": password, "reason": "checked"}).status_code == 302
    report.refresh_from_db()
    assert report.status == "reviewed" and report.reviewed_by == users["supervisor"]
    (sig,) = signatures_for(report)
    assert sig.meaning == "reviewed" and sig.signer == users["supervisor"]


@pytest.mark.req("REP-3")
def test_manual_distribution_needs_review_and_is_logged(client_for, batches, smtp, password):
    report = services.report_generate(kind="production", filters=Filters(DAY, DAY))
    with pytest.raises(Exception, match="reviewed"):
        services.report_distribute(report=report, recipients=["boss@example.com"])
    sup = client_for("supervisor")
    url = reverse("reports:report_detail", args=[report.pk])
    sup.post(url, {"action": "review", "password": password})
    page = sup.post(url, {"action": "distribute", "recipients": "boss@example.com, qa@example.com"})
    assert page.status_code == 200 and b"Sent." in page.content
    smtp.wait_for(1)
    (msg,) = smtp.messages
    assert sorted(a.strip() for a in msg["To"].split(",")) == ["boss@example.com", "qa@example.com"]
    assert "Reviewed and signed by" in msg.get_body(("plain",)).get_content()
    (dist,) = Distribution.objects.filter(report=report)
    assert dist.status == "sent" and dist.sent_by.username == "supervisor"


@pytest.mark.req("REP-3")
def test_subscription_runs_on_schedule_and_the_pdf_arrives(client_for, users, batches, smtp):
    import datetime as dt

    from django.utils import timezone

    c = client_for("planner")
    resp = c.post(reverse("reports:subscriptions"), {"kind": "production", "frequency": "daily",
                                                      "email": "planner@example.com", "product": "", "line": ""})  # fmt: skip
    assert resp.status_code == 302
    sub = Subscription.objects.get(user=users["planner"])
    assert sub.next_run_at > timezone.now()
    assert services.subscriptions_run_due(now=timezone.now()) == []  # not due yet
    later = sub.next_run_at + dt.timedelta(minutes=1)
    (dist,) = services.subscriptions_run_due(now=later)
    assert dist.status == "sent" and dist.subscription == sub
    smtp.wait_for(1)
    (msg,) = smtp.messages
    assert msg["To"] == "planner@example.com" and "not reviewed" in msg.get_body(("plain",)).get_content()
    (attachment,) = list(msg.iter_attachments())
    content = attachment.get_content()
    assert attachment.get_content_type() == "application/pdf" and content.startswith(b"%PDF")
    report = dist.report
    import hashlib

    assert hashlib.sha256(content).hexdigest() == report.pdf_sha256
    sub.refresh_from_db()
    assert sub.next_run_at > later  # moved on: a second run at the same time sends nothing
    assert services.subscriptions_run_due(now=later) == []


@pytest.mark.req("REP-3")
def test_subscription_change_is_audited(client_for, users):
    c = client_for("qa")
    c.post(reverse("reports:subscriptions"), {"kind": "quality", "frequency": "weekly", "email": "qa@example.com"})
    sub = Subscription.objects.get(user=users["qa"])
    resp = c.post(reverse("reports:subscriptions"), {"subscription": sub.pk, "frequency": "monthly",
                                                      "email": "qa2@example.com"})  # fmt: skip
    assert resp.status_code == 302
    event = AuditEvent.objects.filter(action="reports.subscription.update", object_id=str(sub.pk)).get()
    assert event.username == "qa"
    assert '"weekly"' in event.old_values and '"monthly"' in event.new_values and "qa2@example.com" in event.new_values
    sub.refresh_from_db()
    assert (sub.frequency, sub.active) == ("monthly", False)  # unchecked box pauses it
    other = client_for("analyst").post(reverse("reports:subscriptions"), {"subscription": sub.pk, "frequency": "daily",
                                                                           "email": "x@example.com", "active": "on"})  # fmt: skip
    assert other.status_code == 400


@pytest.mark.req("BAT-15")
def test_closing_a_batch_generates_its_production_report(batches, django_capture_on_commit_callbacks):
    from tests.reports.conftest import at

    b1 = batches["B-1"]
    with django_capture_on_commit_callbacks(execute=True):
        move(b1, "closed", at(13))
    report = Report.objects.get(kind="batch", batch=b1)
    assert report.title.endswith("B-1")
    assert ReportFile.objects.get(report=report).content[:4] == b"%PDF"
    # idempotent: the task run again returns the same report
    assert services.report_generate_for_batch(batch_id=b1.pk) == report


@pytest.mark.req("REP-2")
def test_dashboard_for_supervisor(client_for, batches, django_assert_max_num_queries):
    c = client_for("supervisor")
    with django_assert_max_num_queries(30):
        page = c.get(reverse("reports:dashboard"))
    assert page.status_code == 200
    assert b"dashboard-kpis" in page.content and b"<svg" in page.content
    assert client_for("operator").get(reverse("reports:dashboard")).status_code == 403


@pytest.mark.req("REP-3")
def test_stored_pdf_downloads_as_generated(client_for, batches):
    report = services.report_generate(kind="inventory", filters=Filters(DAY, DAY))
    resp = client_for("qa").get(reverse("reports:report_pdf", args=[report.pk]))
    assert resp.status_code == 200 and resp.content == bytes(report.file.content)


@pytest.mark.req("REP-3")
def test_generated_report_list_has_no_n_plus_one(client_for, batches, users, django_assert_max_num_queries):
    for _ in range(3):
        services.report_generate(kind="inventory", filters=Filters(DAY, DAY), user=users["analyst"])
    c = client_for("planner")
    c.get(reverse("reports:report_list"))  # session and log-in queries out of the way
    with django_assert_max_num_queries(12):
        page = c.get(reverse("reports:report_list"))
    assert page.status_code == 200 and page.content.count(b"badge-warn") >= 3


def test_report_title_is_stored_in_english_and_read_in_the_readers_language(client_for, batches, users):
    """A report a Chinese user generated reads English to an English reader, and the other way round."""
    with translation.override("zh-hans"):
        zh_made = services.report_generate(kind="production", filters=Filters(DAY, DAY), user=users["analyst"])
    assert zh_made.title == "Production report"
    en_page = client_for("qa").get(reverse("reports:report_detail", args=[zh_made.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Production report" in en_page.content.decode()
    detail = reverse("reports:report_detail", args=[zh_made.pk])
    zh_page = client_for("qa").get(detail, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "生产报告" in zh_page and "Production report" not in zh_page
    listing = client_for("qa").get(reverse("reports:report_list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "生产报告" in listing
