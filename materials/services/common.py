"""Helpers shared by the materials services: permissions, lot look-up by barcode, quantities."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from materials.models import Location, Lot, Material
from mes.units import convert, unit_label
from mes.workflow import user_may

QUANT = Decimal("0.001")

# Where a material may be put: the location must guarantee exactly the material's condition
# (an ambient room is too warm for a 2–8 °C material, a cold room too cold for an ambient one).
STORAGE_COMPATIBLE = {
    "ambient": {"ambient"},
    "cool": {"cool"},
    "cold": {"cold"},
    "frozen": {"frozen"},
}


def require(user, permission: str, what: str) -> None:
    """Refuse (PermissionDenied, in words) unless the user holds the permission."""
    if not user_may(user, permission):
        raise PermissionDenied(_("You are not allowed to %(what)s.") % {"what": what})


def parse_scan(text: str) -> str:
    """The lot number in a scanned label: container labels read "LOT/001", lot labels "LOT"."""
    code = (text or "").strip().upper()
    if "/" in code:
        code = code.split("/", 1)[0]
    return code


def lot_pk(lot) -> int:
    """Services accept a Lot, its primary key or its lot number."""
    if isinstance(lot, Lot):
        return lot.pk
    if isinstance(lot, int):
        return lot
    found = Lot.objects.filter(code=parse_scan(str(lot))).values_list("pk", flat=True).first()
    if found is None:
        raise ValidationError(_("Lot “%(code)s” is not known. Scan the label again.") % {"code": lot})
    return found


def to_decimal(value) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(_("“%(value)s” is not a quantity.") % {"value": value}) from None
    if not result.is_finite():
        raise ValidationError(_("“%(value)s” is not a quantity.") % {"value": value})
    return result


def in_lot_unit(quantity, unit: str, lot_unit: str, *, positive: bool = True) -> Decimal:
    """`quantity` in `unit` expressed in the lot's unit, rounded to the ledger's precision."""
    result = convert(to_decimal(quantity), unit, lot_unit).quantize(QUANT, rounding=ROUND_HALF_UP)
    if positive and result <= 0:
        raise ValidationError(_("The quantity must be more than zero."))
    return result


def check_storage(material: Material, location: Location) -> None:
    """A lot goes only where its material's storage condition is met."""
    if not location.active:
        raise ValidationError(_("Location %(loc)s is not in use.") % {"loc": location.code})
    if location.condition not in STORAGE_COMPATIBLE.get(material.storage_condition, {material.storage_condition}):
        raise ValidationError(
            _("%(material)s must be stored %(needed)s; location %(loc)s is %(has)s. Choose another location.")
            % {
                "material": material.code,
                "needed": material.get_storage_condition_display(),
                "loc": location.code,
                "has": location.get_condition_display(),
            }
        )


def _number(quantity: Decimal) -> str:
    if quantity == quantity.to_integral():
        return format(quantity.normalize(), "f")
    return format(quantity, "f").rstrip("0")


def fmt(quantity: Decimal, unit: str) -> str:
    """A quantity as an operator reads it: no trailing zeros, with its unit in the reader's language."""
    return f"{_number(quantity)} {unit_label(unit)}"


def fmt_stored(quantity: Decimal, unit: str) -> str:
    """A quantity as a stored (English) generated sentence holds it: the unit's code ("6000 pcs")."""
    return f"{_number(quantity)} {unit}"
