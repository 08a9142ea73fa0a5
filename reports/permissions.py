"""Who may see and act on reports (least privilege).

Analysts, supervisors, QA and planners read reports; only the supervisor reviews and signs a
report (REP-3) and e-mails it by hand. Subscribing is open to every reader.
"""

READ = ["reports.view_report", "reports.view_subscription", "reports.add_subscription", "reports.change_subscription"]

ROLE_PERMISSIONS = {
    "analyst": [*READ, "reports.add_report", "reports.view_dashboard"],
    "supervisor": [
        *READ,
        "reports.add_report",
        "reports.view_dashboard",
        "reports.review_report",
        "reports.distribute_report",
    ],
    "qa": [*READ, "reports.add_report", "reports.view_dashboard"],
    "planner": [*READ, "reports.view_dashboard"],
}
