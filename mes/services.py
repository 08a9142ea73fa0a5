"""Plant hierarchy services: production lines (work centres) are created and changed only here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from mes.models import Area, Line

LINE_FIELDS = ("area", "code", "name", "name_zh", "active")


def _check(values: dict) -> dict:
    errors = {}
    code = (values.get("code") or "").strip().upper()
    if not code:
        errors["code"] = _("Give the line code.")
    if not (values.get("name") or "").strip():
        errors["name"] = _("Give the line name.")
    if not isinstance(values.get("area"), Area):
        errors["area"] = _("Choose the area the line belongs to.")
    if errors:
        raise ValidationError(errors)
    return {**values, "code": code}


def line_create(*, user, **values) -> Line:
    """Add a production line to an area."""
    if not user.has_perm("mes.add_line"):
        raise PermissionDenied(_("You do not have permission to add production lines."))
    values = _check({k: values.get(k) for k in LINE_FIELDS if k in values})
    if Line.objects.filter(code=values["code"]).exists():
        raise ValidationError({"code": _("Line code %(code)s already exists.") % {"code": values["code"]}})
    with transaction.atomic(), audit_context(actor=user, action="mes.line.create"):
        return Line.objects.create(**values)


def line_update(*, user, line_id: int, reason: str = "", **values) -> Line:
    """Change a line's names, area or active flag (an inactive line takes no new orders)."""
    if not user.has_perm("mes.change_line"):
        raise PermissionDenied(_("You do not have permission to change production lines."))
    with transaction.atomic():
        line = Line.objects.select_for_update().get(pk=line_id)
        if "code" in values and (values["code"] or "").strip().upper() != line.code:
            raise ValidationError({"code": _("A line code never changes.")})
        merged = _check({k: values.get(k, getattr(line, k)) for k in LINE_FIELDS})
        for k, v in merged.items():
            setattr(line, k, v)
        with audit_context(actor=user, action="mes.line.update", reason=reason):
            line.save()
        return line
