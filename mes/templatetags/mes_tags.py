from django import template

from audit.signatures import signature_is_valid, signatures_for

register = template.Library()


@register.inclusion_tag("includes/signatures.html")
def signatures_of(obj):
    """Render every signature of `obj` with whether it still matches the record's content."""
    return {"signatures": [{"signature": s, "valid": signature_is_valid(s, obj)} for s in signatures_for(obj)]}


@register.simple_tag
def available_actions(machine, obj, user):
    return machine.available(obj, user)
