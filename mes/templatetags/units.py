"""Units as people read them, for every template (settings.TEMPLATES "builtins").

`{{ lot.unit|unit_label }}` shows a stored unit code in the reader's language ("pcs" → 件);
`{{ lot.stock|quantity:lot.unit }}` shows a number with its unit ("6000 件", "1.5 kg").
"""

from __future__ import annotations

from django import template

from mes.units import quantity_label
from mes.units import unit_label as _unit_label

register = template.Library()


@register.filter
def unit_label(code) -> str:
    """A stored unit code as the reader reads it; metric symbols unchanged."""
    return _unit_label(code)


@register.filter
def quantity(value, unit) -> str:
    """A quantity as people read it (no exponent, at most three decimals) with its unit label."""
    return quantity_label(value, unit)
