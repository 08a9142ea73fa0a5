"""Equipment bulk import (CSV) for plants with hundreds of machines, through change control (issue 23).

Every line is checked first (class and line exist, values valid, codes not repeated); nothing is
proposed while any line has an error. Each new or changed equipment then becomes one master-data
change request (mes.changecontrol): nothing is created or changed until another person approves it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from equipment.models import Equipment, EquipmentClass
from mes.changecontrol import field_text, masterdata_propose
from mes.models import Line

EQUIPMENT_COLUMNS = [
    "code", "name", "name_zh", "class", "line", "location", "calibration_interval_days", "clean_hold_hours",
    "dirty_hold_hours", "ideal_rate_per_min", "opcua_endpoint",
]  # fmt: skip
_PLAIN = ["name", "name_zh", "location", "opcua_endpoint"]
_NUMBERS = ["calibration_interval_days", "clean_hold_hours", "dirty_hold_hours", "ideal_rate_per_min"]


@dataclass
class EquipmentImport:
    proposed: list = field(default_factory=list)  # the change requests
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _row_equipment(
    row: dict, existing: dict, classes: dict, lines: dict, line_no: int, errors: list
) -> Equipment | None:
    code = (row.get("code") or "").strip()
    eq = Equipment.objects.get(pk=existing[code].pk) if code in existing else Equipment(code=code)
    cls = (row.get("class") or "").strip()
    if cls not in classes:
        errors.append(_("Line %(line)s: no equipment class %(cls)s.") % {"line": line_no, "cls": cls})
        return None
    eq.equipment_class = classes[cls]
    line = (row.get("line") or "").strip()
    if line and line not in lines:
        errors.append(_("Line %(line)s: no production line %(code)s.") % {"line": line_no, "code": line})
        return None
    eq.line = lines.get(line)
    eq.area = eq.line.area if eq.line else eq.area
    for name in _PLAIN:
        if name in row and row[name] is not None:
            setattr(eq, name, row[name].strip())
    for name in _NUMBERS:
        text = (row.get(name) or "").strip()
        if text:
            setattr(eq, name, Equipment._meta.get_field(name).to_python(text))
    return eq


def equipment_import(*, user, text: str, reason: str) -> EquipmentImport:
    """Check every line, then propose one change request per new or changed equipment (all or nothing)."""
    result = EquipmentImport()
    if not (reason or "").strip():
        result.errors.append(_("Give a reason for the change."))
        return result
    reader = csv.DictReader(io.StringIO((text or "").strip()))
    missing = [c for c in ("code", "name", "class") if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})
        return result
    rows = list(reader)
    codes = [(r.get("code") or "").strip() for r in rows]
    existing = {e.code: e for e in Equipment.objects.filter(code__in=codes)}
    classes = {c.code: c for c in EquipmentClass.objects.all()}
    lines = {line.code: line for line in Line.objects.select_related("area")}
    pending, seen = [], set()
    for line_no, row in enumerate(rows, start=2):
        code = codes[line_no - 2]
        if code in seen:
            result.errors.append(_("Line %(line)s: equipment %(code)s twice.") % {"line": line_no, "code": code})
            continue
        seen.add(code)
        try:
            eq = _row_equipment(row, existing, classes, lines, line_no, result.errors)
            if eq is not None:
                eq.full_clean(validate_unique=code not in existing)
                pending.append(eq)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                result.errors.append(
                    _("Line %(line)s, %(field)s: %(msg)s") % {"line": line_no, "field": name, "msg": " ".join(messages)}
                )
    if result.errors:
        return result
    with transaction.atomic():
        for eq in pending:
            if eq.pk and _unchanged(eq):
                result.unchanged += 1
                continue
            result.proposed.append(masterdata_propose(user=user, obj=eq, reason=reason))
    return result


def _unchanged(eq: Equipment) -> bool:
    stored = Equipment.objects.get(pk=eq.pk)
    return all(field_text(eq, n) == field_text(stored, n) for n in ["equipment_class", "line", *_PLAIN, *_NUMBERS])
