ROLE_PERMISSIONS = {
    "auditor": ["audit.view_audit_trail", "audit.export_audit_trail"],
}
