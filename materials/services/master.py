"""Material master data services: create and change materials (pages and admin both call these)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from materials.models import Material, MaterialType
from mes.units import Unit, dimension

MATERIAL_FIELDS = (
    "code",
    "name",
    "name_zh",
    "type",
    "unit",
    "specification",
    "storage_condition",
    "shelf_life_days",
    "retest_days",
    "active",
)


def _check(values: dict) -> dict:
    errors = {}
    code = (values.get("code") or "").strip().upper()
    if not code:
        errors["code"] = _("Give the material code.")
    if not (values.get("name") or "").strip():
        errors["name"] = _("Give the material name.")
    if values.get("type") not in MaterialType.values:
        errors["type"] = _("Choose the material type.")
    if values.get("unit") not in Unit.values:
        errors["unit"] = _("Choose the unit of measure.")
    shelf, retest = values.get("shelf_life_days"), values.get("retest_days")
    if shelf is not None and shelf <= 0:
        errors["shelf_life_days"] = _("The shelf life must be at least one day.")
    if retest is not None and shelf is not None and retest > shelf:
        errors["retest_days"] = _("The retest period cannot be longer than the shelf life.")
    if errors:
        raise ValidationError(errors)
    return {**values, "code": code}


def material_create(*, user, **values) -> Material:
    """Add a material to the master data."""
    if not user.has_perm("materials.add_material"):
        raise PermissionDenied(_("You do not have permission to add materials."))
    values = _check({k: values.get(k) for k in MATERIAL_FIELDS if k in values})
    if Material.objects.filter(code=values["code"]).exists():
        raise ValidationError({"code": _("Material code %(code)s already exists.") % {"code": values["code"]}})
    try:
        with transaction.atomic(), audit_context(actor=user, action="materials.material.create"):
            return Material.objects.create(**values)
    except IntegrityError:
        raise ValidationError({"code": _("Material code %(code)s already exists.") % {"code": values["code"]}})


def material_update(*, user, material_id: int, reason: str = "", **values) -> Material:
    """Change a material. The code is fixed; the unit may only change within its dimension."""
    if not user.has_perm("materials.change_material"):
        raise PermissionDenied(_("You do not have permission to change materials."))
    unknown = set(values) - set(MATERIAL_FIELDS)
    if unknown:
        raise ValueError(f"not material fields: {sorted(unknown)}")
    with transaction.atomic():
        material = Material.objects.select_for_update().get(pk=material_id)
        if "code" in values and values["code"].strip().upper() != material.code:
            raise ValidationError({"code": _("A material code never changes; create a new material instead.")})
        merged = _check({k: values.get(k, getattr(material, k)) for k in MATERIAL_FIELDS})
        if dimension(merged["unit"]) != dimension(material.unit):
            raise ValidationError(
                {
                    "unit": _("%(old)s cannot become %(new)s: they measure different things.")
                    % {"old": material.unit, "new": merged["unit"]}
                }
            )
        for k, v in merged.items():
            setattr(material, k, v)
        with audit_context(actor=user, action="materials.material.update", reason=reason):
            material.save()
        return material
