from mes.middleware import idle_timeout_seconds
from mes.registry import nav_items_for
from mes.roles import role_codes, role_label


def navigation(request):
    """Navigation entries the user may use, grouped by section, plus the session time-out."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    sections: dict[str, list] = {}
    for item in nav_items_for(user):
        sections.setdefault(str(item.section), []).append(item)
    return {
        "nav_sections": sections,
        "user_roles": [role_label(r) for r in role_codes(user)],
        "idle_timeout_seconds": idle_timeout_seconds(),
    }
