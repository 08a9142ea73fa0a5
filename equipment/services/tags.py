"""OPC UA tags as master data: one added from the tag browser, or many from a CSV file (issue 23).

Both validate each tag as the admin form does (node id parsed, key unique per equipment) and
save through the audited master-data path with the reason given; an import is all or nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from equipment.models import Equipment, EquipmentTag, TagKind

ADD = "equipment.add_equipmenttag"
CSV_COLUMNS = ["equipment", "endpoint", "key", "node_id", "kind", "label", "unit", "deadband", "low", "high"]


def _check(user) -> None:
    if not user.has_perm(ADD):
        raise PermissionDenied(_("You do not have permission to configure equipment tags."))


def equipment_tag_add(
    *, user, equipment: Equipment, key: str, node_id: str, kind: str, label: str = "", unit: str = "", reason: str
) -> EquipmentTag:
    """Add one tag to an equipment (picked in the tag browser)."""
    _check(user)
    if not (reason or "").strip():
        raise ValidationError(_("Give a reason for the change."))
    tag = EquipmentTag(equipment=equipment, key=key, node_id=node_id, kind=kind, label=label, unit=unit)
    tag.full_clean()
    with transaction.atomic(), audit_context(actor=user, action="equipment.equipmenttag.create", reason=reason):
        tag.save()
    return tag


@dataclass
class ImportResult:
    created: int = 0
    errors: list[str] = field(default_factory=list)


def _number(text: str, line: int, name: str, errors: list[str]) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        errors.append(_("Line %(line)s: %(name)s “%(v)s” is not a number.") % {"line": line, "name": name, "v": text})
        return None


def equipment_tags_import(*, user, text: str, reason: str) -> ImportResult:
    """Import tags from CSV (columns: equipment, endpoint, key, node_id, kind, label, unit, deadband,
    low, high). Every line is checked first; nothing is saved while any line has an error."""
    _check(user)
    result = ImportResult()
    if not (reason or "").strip():
        result.errors.append(_("Give a reason for the change."))
        return result
    reader = csv.DictReader(io.StringIO(text.strip()))
    missing = [c for c in ("equipment", "key", "node_id", "kind") if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})
        return result
    rows = list(reader)
    codes = {(r.get("equipment") or "").strip() for r in rows}
    equipment = {e.code: e for e in Equipment.objects.filter(code__in=codes)}
    tags, endpoints, seen = [], {}, set()
    for line, row in enumerate(rows, start=2):
        code = (row.get("equipment") or "").strip()
        eq = equipment.get(code)
        if eq is None:
            result.errors.append(_("Line %(line)s: no equipment %(code)s.") % {"line": line, "code": code})
            continue
        endpoint = (row.get("endpoint") or "").strip()
        if endpoint:
            endpoints[eq.pk] = endpoint
        key, kind = (row.get("key") or "").strip(), (row.get("kind") or TagKind.PROCESS).strip()
        if (code, key) in seen:
            result.errors.append(
                _("Line %(line)s: tag %(key)s twice for %(code)s.") % {"line": line, "key": key, "code": code}
            )
        seen.add((code, key))
        tag = EquipmentTag(
            equipment=eq,
            key=key,
            node_id=(row.get("node_id") or "").strip(),
            kind=kind,
            label=(row.get("label") or "").strip(),
            unit=(row.get("unit") or "").strip(),
            deadband=_number(row.get("deadband", ""), line, "deadband", result.errors) or 0.0,
            low_limit=_number(row.get("low", ""), line, "low", result.errors),
            high_limit=_number(row.get("high", ""), line, "high", result.errors),
        )
        try:
            tag.full_clean()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                result.errors.append(
                    _("Line %(line)s, %(field)s: %(msg)s") % {"line": line, "field": name, "msg": " ".join(messages)}
                )
            continue
        tags.append(tag)
    if result.errors:
        return result
    with transaction.atomic(), audit_context(actor=user, action="equipment.tags.import", reason=reason):
        for pk, endpoint in endpoints.items():
            eq = Equipment.objects.select_for_update().get(pk=pk)
            if eq.opcua_endpoint != endpoint:
                eq.opcua_endpoint = endpoint
                eq.save()
        for tag in tags:
            tag.save()
    result.created = len(tags)
    return result
