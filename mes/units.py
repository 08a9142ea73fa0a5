"""Units of measure and conversion within a dimension (kg/g/mg, L/mL, pieces)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy


class Unit(models.TextChoices):
    KG = "kg", "kg"
    G = "g", "g"
    MG = "mg", "mg"
    L = "L", "L"
    ML = "mL", "mL"
    PCS = "pcs", gettext_lazy("pieces")


# unit -> (dimension, factor to the dimension's base unit)
_FACTORS: dict[str, tuple[str, Decimal]] = {
    "kg": ("mass", Decimal("1000")),
    "g": ("mass", Decimal("1")),
    "mg": ("mass", Decimal("0.001")),
    "L": ("volume", Decimal("1000")),
    "mL": ("volume", Decimal("1")),
    "pcs": ("count", Decimal("1")),
}


def dimension(unit: str) -> str:
    try:
        return _FACTORS[unit][0]
    except KeyError:
        raise ValidationError(_("Unknown unit “%(unit)s”.") % {"unit": unit}) from None


def convert(quantity: Decimal | int | str, from_unit: str, to_unit: str) -> Decimal:
    """`quantity` in `from_unit` expressed in `to_unit`; refuses units of different dimensions."""
    quantity = Decimal(str(quantity))
    if from_unit == to_unit:
        return quantity
    if dimension(from_unit) != dimension(to_unit):
        raise ValidationError(
            _("%(a)s cannot be converted to %(b)s: they measure different things.") % {"a": from_unit, "b": to_unit}
        )
    return quantity * _FACTORS[from_unit][1] / _FACTORS[to_unit][1]


def quantity_text(quantity: Decimal | int | float | str, places: int = 3) -> str:
    """A number as a person reads it in a message: fixed point, never an exponent ("2E+2"), at most
    `places` decimals and no trailing zeros ("200", "146.2", "0.005")."""
    value = Decimal(str(quantity)).quantize(Decimal(1).scaleb(-places))
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# The unit as people read it, by stored code. Metric symbols read the same in every language; a count
# has a word ("pcs", 件). Codes are stored as they are; only the label shown is translated.
_LABELS = {
    "pcs": pgettext_lazy("unit of measure", "pcs"),
    "blisters/min": pgettext_lazy("unit of measure", "blisters/min"),  # a blister machine's speed
}


def unit_label(code) -> str:
    """A stored unit code as the reader reads it ("pcs" → 件 in Chinese); unknown codes as stored."""
    code = "" if code is None else str(code)
    label = _LABELS.get(code)
    return str(label) if label is not None else code


def quantity_label(quantity, unit, places: int = 3) -> str:
    """A quantity with its unit in the reader's language ("6000 件", "1.5 kg"); "—" without a number."""
    if quantity is None or quantity == "":
        return "—"
    return f"{quantity_text(quantity, places)} {unit_label(unit)}".strip()


def unit_in_text(text: str) -> str:
    """A stored quantity text ending in a unit code ("6000 pcs", "98 – 102 pcs") with the unit as the
    reader reads it; any other text as stored."""
    head, sep, last = (text or "").rpartition(" ")
    if sep and last in _LABELS:
        return f"{head} {unit_label(last)}"
    return text or ""
