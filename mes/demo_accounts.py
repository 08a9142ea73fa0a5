"""The demo users (one per role, two operators) and their password. Free of Django imports so the
`make run` launcher can print the log-ins before Django starts."""

DEMO_PASSWORD = "Pharma-MES-2026!"

# username: (first name, last name, role)
DEMO_USERS = {
    "planner": ("Fang", "Wang", "planner"),
    "supervisor": ("Wei", "Zhang", "supervisor"),
    "operator": ("Qiang", "Li", "operator"),
    "operator2": ("Jing", "Chen", "operator"),
    "qc": ("Yang", "Liu", "qc"),
    "qa": ("Min", "Zhao", "qa"),
    "maintenance": ("Hao", "Sun", "maintenance"),
    "warehouse": ("Jie", "Zhou", "warehouse"),
    "analyst": ("Lei", "Wu", "analyst"),
    "auditor": ("Li", "Xu", "auditor"),
    "admin": ("Jun", "Ma", "admin"),
}
