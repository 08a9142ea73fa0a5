"""Least privilege: administrators run the system but do not approve its GMP configuration; QA
approves configuration changes and signs periodic reviews; a role grant is approved by QA or a
second administrator (never the requester nor the grantee); auditors read the reports."""

_REPORTS = [
    "administration.view_configparameter",
    "administration.view_configchange",
    "administration.review_configuration",
    "administration.review_access",
]

ROLE_PERMISSIONS = {
    "admin": [
        *_REPORTS,
        "administration.propose_configchange",
        "administration.manage_users",
        "administration.view_rolerequest",
        "administration.approve_rolerequest",
        "administration.view_system_status",
        "administration.view_securityalert",
        "administration.change_securityalert",
        "administration.view_periodicreview",
        "mes.view_masterdatachange",
        "mes.propose_masterdatachange",
    ],
    "maintenance": ["mes.view_masterdatachange", "mes.propose_masterdatachange"],
    "supervisor": ["mes.view_masterdatachange", "mes.propose_masterdatachange"],
    "qa": [
        "mes.view_masterdatachange",
        "mes.propose_masterdatachange",
        "mes.approve_masterdatachange",
        *_REPORTS,
        "administration.approve_configchange",
        "administration.view_rolerequest",
        "administration.approve_rolerequest",
        "administration.record_review",
        "administration.view_periodicreview",
    ],
    "auditor": [*_REPORTS, "administration.view_periodicreview", "mes.view_masterdatachange"],
}
