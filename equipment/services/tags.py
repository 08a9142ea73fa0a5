"""OPC UA tags as master data: one picked in the tag browser, or many from a CSV file (issue 23),
both under master-data change control (issue 16).

Each tag is validated as the admin form does (node id parsed, key unique per equipment), then
becomes one change request (mes.changecontrol) per new or changed tag: nothing is captured from
it until another person approves it with an e-signature. An import is all or nothing: every line
is checked first and nothing is proposed while any line has an error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from equipment.models import Equipment, EquipmentTag, TagKind
from mes.changecontrol import field_text, masterdata_propose
from mes.models import MasterDataChange

ADD = "equipment.add_equipmenttag"
CSV_COLUMNS = ["equipment", "endpoint", "key", "node_id", "kind", "label", "unit", "deadband", "low", "high"]
_CSV_FIELDS = ["node_id", "kind", "label", "unit", "deadband", "low_limit", "high_limit"]


def _check(user) -> None:
    if not user.has_perm(ADD):
        raise PermissionDenied(_("You do not have permission to configure equipment tags."))


def equipment_tag_add(
    *, user, equipment: Equipment, key: str, node_id: str, kind: str, label: str = "", unit: str = "", reason: str
) -> MasterDataChange:
    """Propose one new tag on an equipment (picked in the tag browser); it exists once another person approves."""
    _check(user)
    tag = EquipmentTag(equipment=equipment, key=key, node_id=node_id, kind=kind, label=label, unit=unit)
    return masterdata_propose(user=user, obj=tag, reason=reason)


@dataclass
class ImportResult:
    proposed: list = field(default_factory=list)  # the change requests (tags, and equipment endpoints)
    unchanged: int = 0
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


def _row_tag(row: dict, eq: Equipment, existing: dict, line: int, errors: list[str]) -> EquipmentTag:
    """The tag as the line states it: the stored tag edited when the key exists on the equipment, else a new one."""
    key = (row.get("key") or "").strip()
    stored = existing.get((eq.pk, key))
    tag = EquipmentTag.objects.get(pk=stored.pk) if stored else EquipmentTag(equipment=eq, key=key)
    tag.node_id = (row.get("node_id") or "").strip()
    tag.kind = (row.get("kind") or TagKind.PROCESS).strip()
    tag.label = (row.get("label") or "").strip()
    tag.unit = (row.get("unit") or "").strip()
    tag.deadband = _number(row.get("deadband", ""), line, "deadband", errors) or 0.0
    tag.low_limit = _number(row.get("low", ""), line, "low", errors)
    tag.high_limit = _number(row.get("high", ""), line, "high", errors)
    return tag


def _read(text: str, result: ImportResult) -> list[dict] | None:
    reader = csv.DictReader(io.StringIO((text or "").strip()))
    missing = [c for c in ("equipment", "key", "node_id", "kind") if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})
        return None
    return list(reader)


def equipment_tags_import(*, user, text: str, reason: str) -> ImportResult:
    """Check every line (columns: equipment, endpoint, key, node_id, kind, label, unit, deadband, low, high),
    then propose one change request per new or changed tag and per changed endpoint (all or nothing)."""
    _check(user)
    result = ImportResult()
    if not (reason or "").strip():
        result.errors.append(_("Give a reason for the change."))
        return result
    rows = _read(text, result)
    if rows is None:
        return result
    codes = {(r.get("equipment") or "").strip() for r in rows}
    equipment = {e.code: e for e in Equipment.objects.filter(code__in=codes)}
    existing = {(t.equipment_id, t.key): t for t in EquipmentTag.objects.filter(equipment__code__in=codes)}
    tags, endpoints = _check_lines(rows, equipment, existing, result.errors)
    if result.errors:
        return result
    with transaction.atomic():
        for eq in endpoints:
            result.proposed.append(masterdata_propose(user=user, obj=eq, reason=reason))
        for tag in tags:
            if tag.pk and _unchanged(tag):
                result.unchanged += 1
                continue
            result.proposed.append(masterdata_propose(user=user, obj=tag, reason=reason))
    return result


def _check_lines(rows, equipment, existing, errors) -> tuple[list[EquipmentTag], list[Equipment]]:
    """Every line validated; the tags stated and the equipment whose endpoint the file changes."""
    tags, endpoints, seen = [], {}, set()
    for line, row in enumerate(rows, start=2):
        code = (row.get("equipment") or "").strip()
        eq = equipment.get(code)
        if eq is None:
            errors.append(_("Line %(line)s: no equipment %(code)s.") % {"line": line, "code": code})
            continue
        endpoint = (row.get("endpoint") or "").strip()
        if endpoint and endpoint != eq.opcua_endpoint:
            endpoints.setdefault(eq.pk, Equipment.objects.get(pk=eq.pk)).opcua_endpoint = endpoint
        tag = _row_tag(row, eq, existing, line, errors)
        if (code, tag.key) in seen:
            errors.append(
                _("Line %(line)s: tag %(key)s twice for %(code)s.") % {"line": line, "key": tag.key, "code": code}
            )
        seen.add((code, tag.key))
        try:
            tag.full_clean(validate_unique=tag.pk is None)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.append(
                    _("Line %(line)s, %(field)s: %(msg)s") % {"line": line, "field": name, "msg": " ".join(messages)}
                )
            continue
        tags.append(tag)
    return tags, list(endpoints.values())


def _unchanged(tag: EquipmentTag) -> bool:
    stored = EquipmentTag.objects.get(pk=tag.pk)
    return all(field_text(tag, n) == field_text(stored, n) for n in _CSV_FIELDS)
