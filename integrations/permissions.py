"""Who may do what with the integrations (least privilege).

Integration accounts get ordinary roles: an ERP account is a planner (it may push plans, as a
planner may create orders), a LIMS account a QC inspector, a QMS account QA, a WMS account a
warehouse keeper. Administrators read the message log and replay failed messages.
"""

ROLE_PERMISSIONS = {
    "admin": [
        "integrations.view_message_log",
        "integrations.replay_message",
        "integrations.view_integrationaccount",
        "integrations.add_integrationaccount",
    ],
    "planner": ["integrations.push_erp"],
    "qc": ["integrations.push_lims"],
    "qa": ["integrations.push_qms"],
    "warehouse": ["integrations.push_wms"],
}
