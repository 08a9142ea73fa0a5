"""The end of the plant day: the output lot's test, the deviation closed, the two-step release, the
production report e-mailed, and the auditor's check of the day. One function per role step."""

from __future__ import annotations

from django.utils import timezone

from tests.plantday.walk import Day, goto, home, screens, sign, submit

OUTPUT_VALUES = {"Loss on drying": "2.1", "Bulk density": "0.55"}
REPORT_RECIPIENTS = "plant.manager@example.com, qa.manager@example.com"


def qc_tests_the_output_lot(day: Day) -> None:
    """The granules' intermediate inspection (created when the batch completed): results, signed."""
    from materials.models import Lot
    from quality.models import Inspection
    from tests.plantday.office import _enter_results

    page, batch = day.page("qc"), day.made["batch"]
    lot = Lot.objects.get(produced_by=batch)
    inspection = Inspection.objects.get(lot=lot)
    goto(page, f"/quality/inspections/{inspection.pk}/")
    _enter_results(page, inspection, OUTPUT_VALUES)
    sign(page, "[data-testid=form-complete]", "qc")
    submit(page, "[data-testid=form-complete] button[type=submit]")
    assert page.inner_text("[data-testid=inspection-status]") == "Passed"
    day.made["output_lot"] = lot
    day.check("qc")


def qa_closes_the_deviation(day: Day) -> None:
    """The surge's major deviation: QC investigates and concludes, QA adds a CAPA and approves the
    closure (two people, all signed)."""
    from quality.models import Deviation

    (deviation,) = Deviation.objects.filter(source="parameter")
    qc = day.page("qc")
    goto(qc, f"/quality/deviations/{deviation.pk}/")
    sign(qc, "[data-testid=form-investigate]", "qc")
    submit(qc, "[data-testid=form-investigate] button[type=submit]")
    qc.fill("[data-testid=form-conclude] textarea[name=root_cause]", "Impeller drive surge at start of wet massing.")
    qc.fill("[data-testid=form-conclude] textarea[name=impact_assessment]", "20 s above limit; granules pass.")
    sign(qc, "[data-testid=form-conclude]", "qc")
    submit(qc, "[data-testid=form-conclude] button[type=submit]")
    page = day.page("qa")
    home(day, "qa")
    goto(page, "/quality/deviations/")
    screens(page, "qa", "deviations")
    page.click(f"a:text-is('{deviation.number}')")
    page.select_option("[data-testid=capa-form] select[name=kind]", "preventive")
    page.fill("[data-testid=capa-form] textarea[name=action]", "Soft-start ramp for the impeller drive.")
    page.select_option("[data-testid=capa-form] select[name=owner]", label="Hao Sun")
    submit(page, "[data-testid=capa-add]")
    page.fill("[data-testid=form-close] textarea[name=closure_summary]", "Equipment cause; CAPA raised.")
    sign(page, "[data-testid=form-close]", "qa")
    submit(page, "[data-testid=form-close] button[type=submit]")
    assert page.inner_text("[data-testid=dev-status]") == "Closed"
    screens(page, "qa", "deviation")
    day.check("qa")


def qc_releases_the_batch(day: Day) -> None:
    """The release cockpit: every condition met, QC release (signed)."""
    page, batch = day.page("qc"), day.made["batch"]
    goto(page, "/quality/release/")
    page.click(f"a:text-is('{batch.number}')")
    assert page.locator("[data-testid=conditions] li.unmet").count() == 0
    sign(page, "[data-testid=form-qc-release]", "qc")
    submit(page, "[data-testid=form-qc-release] button[type=submit]")
    screens(page, "qc", "release")
    day.check("qc")


def supervisor_releases_the_batch(day: Day) -> None:
    """The production release by another person: the output lot is released to stock."""
    page, batch = day.page("supervisor"), day.made["batch"]
    goto(page, f"/quality/release/{batch.pk}/")
    sign(page, "[data-testid=form-production-release]", "supervisor")
    submit(page, "[data-testid=form-production-release] button[type=submit]")
    assert page.inner_text("[data-testid=lot-status]") == "Released"
    lot = day.made["output_lot"]
    lot.refresh_from_db()
    assert lot.status == "released"
    day.check("supervisor")


def supervisor_emails_the_production_report(day: Day, inbox) -> None:
    """Today's production report: generated, reviewed (signed), e-mailed as PDF through SMTP."""
    page, today = day.page("supervisor"), timezone.localdate().isoformat()
    goto(page, f"/reports/view/production/?start={today}&end={today}")
    assert day.made["batch"].number in page.inner_text("main")
    screens(page, "supervisor", "production-report")
    submit(page, "[data-testid=generate]")
    sign(page, "[data-testid=review-form]", "supervisor")
    submit(page, "[data-testid=review-form] button[type=submit]")
    page.fill("#id_recipients", REPORT_RECIPIENTS)
    submit(page, "[data-testid=distribute-form] button[type=submit]")
    page.wait_for_selector("text=Sent.")
    # Sent within the request; the SMTP server stored the message before it answered "250".
    (message,) = inbox.messages
    assert sorted(a.strip() for a in message["To"].split(",")) == sorted(REPORT_RECIPIENTS.split(", "))
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_content().startswith(b"%PDF")
    day.check("supervisor")


def _search(page, username: str, action: str) -> int:
    """The auditor's search form: events of one user whose action code contains `action`."""
    page.fill("#id_user", username)
    page.fill("#id_action", action)
    submit(page, "form.filters button[type=submit]")
    return page.locator("table.table tbody tr:not(:has(td.empty))").count()


def auditor_finds_the_day_and_verifies_the_chain(day: Day, expected: list[tuple[str, str]]) -> None:
    """Every role's actions of the day are found in the audit trail; the hash chain is intact."""
    page = day.page("auditor")
    home(day, "auditor")
    goto(page, "/audit/")
    missing = [(user, action) for user, action in expected if not _search(page, user, action)]
    assert not missing, f"not found in the audit trail: {missing}"
    screens(page, "auditor", "audit-trail")
    from audit.tasks import audit_checkpoint

    audit_checkpoint.apply()  # the beat's minute: the day's chain is witnessed before the auditor verifies it
    goto(page, "/audit/verify/")
    submit(page, "[data-testid=verify]")
    assert page.inner_text("[data-testid=verify-result]").startswith("Chain intact")
    screens(page, "auditor", "verify")
    goto(page, "/audit/")
    assert _search(page, "auditor", "audit.verify"), "the verification itself is not in the audit trail"
    day.check("auditor")
