"""Material master data services: propose a new material or a change of one (pages call these). Both are
change requests (mes.changecontrol): effective when another person approves them with a signature."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from materials.models import Material
from mes.changecontrol import masterdata_propose
from mes.models import MasterDataChange, MasterDataChangeStatus

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


def _material(values: dict, base: Material | None = None) -> Material:
    """An unsaved copy of the material holding the proposed values (the record itself is untouched)."""
    obj = Material() if base is None else Material.objects.get(pk=base.pk)
    for name in MATERIAL_FIELDS:
        if name in values:
            setattr(obj, name, values[name])
    return obj


def material_create(*, user, reason: str = "", **values) -> MasterDataChange:
    """Propose a new material: it exists once another person approves the change request (issue 16)."""
    if not user.has_perm("materials.add_material"):
        raise PermissionDenied(_("You do not have permission to add materials."))
    unknown = set(values) - set(MATERIAL_FIELDS)
    if unknown:
        raise ValueError(f"not material fields: {sorted(unknown)}")
    obj = _material(values)
    obj.code = (obj.code or "").strip().upper()
    if obj.code and Material.objects.filter(code=obj.code).exists():
        raise ValidationError({"code": _("Material code %(code)s already exists.") % {"code": obj.code}})
    waiting = MasterDataChange.objects.filter(
        object_type="materials.material", object_id="", status=MasterDataChangeStatus.PROPOSED, after__code=obj.code
    )
    if obj.code and waiting.exists():
        raise ValidationError(
            {"code": _("A new material %(code)s is already waiting for approval.") % {"code": obj.code}}
        )
    return masterdata_propose(user=user, obj=obj, reason=reason or _("New material %(code)s") % {"code": obj.code})


def material_update(*, user, material_id: int, reason: str = "", **values) -> MasterDataChange:
    """Propose a change of a material (Material.clean: the code is fixed, the unit stays within its
    dimension): effective once another person approves it."""
    if not user.has_perm("materials.change_material"):
        raise PermissionDenied(_("You do not have permission to change materials."))
    unknown = set(values) - set(MATERIAL_FIELDS)
    if unknown:
        raise ValueError(f"not material fields: {sorted(unknown)}")
    material = Material.objects.get(pk=material_id)
    return masterdata_propose(user=user, obj=_material(values, material), reason=reason)
