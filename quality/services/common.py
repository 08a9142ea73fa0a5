"""Helpers shared by the quality services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from mes.roles import role_codes


def require(user, permission: str, what: str) -> None:
    """Refuse with words when the user lacks `permission` for `what`."""
    if user is None or not user.is_authenticated or not user.has_perm(permission):
        raise PermissionDenied(_("You do not have permission to %(what)s.") % {"what": what})


def has_role(user, role: str) -> bool:
    return role in role_codes(user)
