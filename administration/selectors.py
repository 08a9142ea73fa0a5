"""Read queries for the administration pages and reports (bounded query counts)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from administration.models import ChangeStatus, ConfigChange, ConfigParameter


def users_overview():
    return (
        get_user_model()
        .objects.select_related("security")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        .annotate(scopes=Count("userobjectpermission", distinct=True))
        .order_by("username")
    )


def access_review_rows(inactive_days: int):
    """Every user: roles, last log-in, active, locked, inactive (no log-in for `inactive_days`)."""
    cutoff = timezone.now() - dt.timedelta(days=inactive_days)
    rows = []
    for user in users_overview():
        security = getattr(user, "security", None)
        rows.append(
            {
                "user": user,
                "roles": [g.name for g in user.groups.all()],
                "locked": bool(security and security.locked_at),
                "inactive": user.is_active and (user.last_login is None or user.last_login < cutoff),
            }
        )
    return rows


def parameters_overview():
    return ConfigParameter.objects.annotate(pending=Count("changes", filter=Q(changes__status=ChangeStatus.PROPOSED)))


def changes_in_period(start: dt.date, end: dt.date):
    """Change requests proposed or decided in the period (CFG-3 configuration review)."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return (
        ConfigChange.objects.filter(
            Q(proposed_at__gte=lo, proposed_at__lt=hi) | Q(decided_at__gte=lo, decided_at__lt=hi)
        )
        .select_related("parameter", "proposed_by", "decided_by")
        .order_by("proposed_at", "id")
    )
