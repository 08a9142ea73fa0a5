from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from audit.signatures import signature_is_valid, signatures_for

register = template.Library()


@register.inclusion_tag("includes/signatures.html")
def signatures_of(obj):
    """Render every signature of `obj` with whether it still matches the record's content."""
    return {"signatures": [{"signature": s, "valid": signature_is_valid(s, obj)} for s in signatures_for(obj)]}


@register.simple_tag
def available_actions(machine, obj, user):
    return machine.available(obj, user)


@register.filter
def dotted_breaks(value) -> str:
    """A dotted identifier (audit action, record type) that may wrap after its dots and underscores,
    never inside a word, so long ones keep a table within a tablet's width."""
    text = str(escape(value))
    return mark_safe(text.replace(".", ".<wbr>").replace("_", "_<wbr>"))  # noqa: S308 (escaped above)


@register.filter
def cell(value):
    """A report cell as people read it: a decimal without an exponent or trailing zeros ("146.2", not
    "146.200000000000"); anything else unchanged."""
    from decimal import Decimal

    from mes.units import quantity_text

    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | float):
        return quantity_text(value)
    return value


@register.filter
def localized(value):
    """A generated sentence stored in a record (mes.generated), in the reader's language."""
    from mes.generated import localized as _localized

    return _localized(value)
