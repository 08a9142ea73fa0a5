"""Page context: open security alerts for administrators (a notice on every page they open, 21 CFR
11.300(d)), and whether the signature dialog must ask for the user ID (21 CFR 11.200(a))."""

from __future__ import annotations

from administration.services.alerts import open_alerts
from audit.signatures import signature_needs_user_id
from mes.permcache import holds


def administration(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    context = {"signature_needs_user_id": signature_needs_user_id(request)}
    if holds(user, "administration.view_securityalert"):
        context["open_security_alerts"] = open_alerts().count()
    return context
