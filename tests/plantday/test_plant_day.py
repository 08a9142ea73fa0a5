"""A whole plant day in headless Chromium, each demo user in their own browser context, with the real
peers on loopback: the ERP posts its plan to the API, an OPC UA server feeds the machines' values,
an SMTP server receives the production report. Screenshots of every role's screens, in English and
Chinese, go to test-artifacts/plant-day/ (MES_TEST_ARTIFACTS); any console error, failed request or
server error fails the day."""

from __future__ import annotations

import pytest

from tests.plantday import closing, floor, office, rework
from tests.plantday.walk import Day

pytestmark = [pytest.mark.browser]

# (user, action code fragment) that the auditor must find: every role's part of the day.
EXPECTED_IN_AUDIT_TRAIL = [
    ("erp-link", "integrations.api.post"),
    ("erp-link", "orders.productionorder.create"),
    ("planner", "orders.productionorder.update"),
    ("planner", "orders.productionorder.submit"),
    ("supervisor", "orders.productionorder.approve"),
    ("supervisor", "orders.productionorder.release"),
    ("supervisor", "batches.batch.create_from_order"),
    ("warehouse", "materials.lot.receive"),
    ("qc", "quality.inspection.pass"),
    ("qc", "quality.inspection.lot_released"),
    ("qc", "materials.lot.release"),
    ("maintenance", "equipment.dailycheck.record"),
    ("operator", "equipment.equipment.finish_cleaning"),
    ("supervisor", "batches.line_clearance.sign"),
    ("supervisor", "batches.batch.start"),
    ("operator", "materials.ledger.issue"),
    ("operator", "batches.step.start"),
    ("operator", "batches.entry.record"),
    ("operator", "batches.entry.correct"),
    ("operator", "batches.step.sign"),
    ("operator", "batches.step.verify_refused_same_person"),
    ("operator2", "batches.step.verify"),
    ("operator", "batches.batch.complete"),
    ("qc", "batches.batch.request_correction"),
    ("qc", "batches.exception.dispose"),
    ("qc", "batches.batch.approve_review"),
    ("qa", "quality.deviation.close"),
    ("qa", "quality.capa.create"),
    ("qc", "quality.batchrelease.qc_release"),
    ("supervisor", "quality.batchrelease.release"),
    ("supervisor", "reports.report.review"),
    ("supervisor", "reports.report.distribute.sent"),
    ("qc", "batches.step.reopen"),
    ("qc", "materials.lot.reject"),
    ("qc", "quality.disposition.propose"),
    ("qa", "quality.disposition.approve"),
    ("supervisor", "batches.batch.create_rework"),
    ("supervisor", "quality.disposition.rework_started"),
]


@pytest.mark.req("ORD-1", "ORD-2", "INT-1", "MAT-1", "MAT-3", "QC-1", "EQP-2", "EQP-8", "BAT-1", "BAT-6", "BAT-7")
@pytest.mark.req("BAT-8", "BAT-9", "BAT-10", "QC-6", "QC-7", "QC-3", "QC-4", "QC-10", "REP-3", "AUD-1")
def test_a_whole_plant_day(plant_day, opcua_simulator, smtp_inbox, new_page, live_server):
    day = Day(new_page=new_page, plant=plant_day)
    try:
        office.erp_plan_arrives(day, live_server.url)
        office.planner_completes_and_submits_the_order(day)
        office.supervisor_approves_releases_and_creates_the_batch(day)
        office.warehouse_receives_the_materials(day)
        office.qc_tests_and_releases_the_lots(day)
        office.maintenance_does_the_daily_checks(day)
        office.operator_cleans_the_equipment(day)
        floor.supervisor_prepares_and_starts_the_batch(day)
        floor.machines_report_their_values(day, opcua_simulator)
        floor.operators_issue_the_materials(day)
        floor.operator_granulates(day)
        floor.operator2_verifies_the_granulation(day)
        floor.operator_dries_and_completes(day)
        floor.qc_reviews_and_requests_a_correction(day)
        floor.operator_corrects_and_resubmits(day)
        floor.qc_approves_the_record(day)
        closing.qc_tests_the_output_lot(day)
        closing.qa_closes_the_deviation(day)
        closing.qc_releases_the_batch(day)
        closing.supervisor_releases_the_batch(day)
        closing.supervisor_emails_the_production_report(day, smtp_inbox)
        rework.warehouse_receives_granules_from_the_cmo(day)
        rework.qc_rejects_the_granules_and_proposes_rework(day)
        rework.qa_approves_the_rework(day)
        rework.supervisor_starts_the_rework_batch(day)
        rework.operator_reworks_the_granules(day)
        closing.auditor_finds_the_day_and_verifies_the_chain(day, EXPECTED_IN_AUDIT_TRAIL)
    except BaseException:
        day.failure_screens()
        raise
    for username in day.pages:
        day.check(username)
