from mes.registry import Rule

ALL_ROLES = frozenset(
    {"planner", "supervisor", "operator", "qc", "qa", "maintenance", "warehouse", "analyst", "auditor", "admin"}
)

ACCESS = {
    "home": Rule(ALL_ROLES),
    "healthz": Rule(ALL_ROLES, public=True),
    "login": Rule(ALL_ROLES, public=True),
    "logout": Rule(ALL_ROLES, method="post"),
    "set_language": Rule(ALL_ROLES, public=True, method="post"),
}
