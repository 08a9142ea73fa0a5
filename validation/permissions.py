"""QA reads and approves validation reports; auditors read them."""

ROLE_PERMISSIONS = {
    "qa": ["validation.view_validationreport", "validation.approve_validationreport"],
    "auditor": ["validation.view_validationreport"],
}
