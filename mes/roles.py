"""The roles of the plant (one auth group each) and the sync of their permissions.

The groups are created by a data migration (mes/migrations/0002_roles.py); their permissions are
declared per app in `<app>/permissions.py` and applied after every migrate, because permissions of
apps that migrate later do not exist yet when this app's migrations run.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from mes.permcache import role_codes as cached_role_codes
from mes.registry import role_permissions

ROLES: dict[str, object] = {
    "planner": _("Planner"),
    "supervisor": _("Production supervisor"),
    "operator": _("Operator"),
    "qc": _("QC inspector / reviewer"),
    "qa": _("QA manager"),
    "maintenance": _("Maintenance technician"),
    "warehouse": _("Warehouse keeper"),
    "analyst": _("Data analyst"),
    "auditor": _("Auditor"),
    "admin": _("System administrator"),
}


def role_codes(user) -> list[str]:
    """The role codes of a user (group names): per request, and across requests in mes.permcache."""
    if not user.is_authenticated:
        return []

    return cached_role_codes(user)


def role_label(code: str) -> str:
    return str(ROLES.get(code, code))


def sync_role_permissions(**kwargs) -> None:
    """Give each role group exactly the permissions its apps declare (idempotent)."""
    declared = role_permissions()
    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
    }
    for code in ROLES:
        group, _created = Group.objects.get_or_create(name=code)
        wanted = {all_perms[name] for name in declared.get(code, ()) if name in all_perms}
        missing = [name for name in declared.get(code, ()) if name not in all_perms]
        if missing:
            raise RuntimeError(f"role {code} declares unknown permissions: {', '.join(sorted(missing))}")
        current = set(group.permissions.all())
        if current != wanted:
            group.permissions.set(wanted)
