from django import template

register = template.Library()

TONES = {
    "draft": "",
    "submitted": "info",
    "returned": "warn",
    "approved": "info",
    "released": "ok",
    "in_progress": "ok",
    "completed": "ok",
    "closed": "",
    "cancelled": "danger",
    "in_review": "info",
    "effective": "ok",
    "superseded": "",
    "retired": "danger",
}


@register.inclusion_tag("orders/_status.html")
def status_badge(obj):
    """A coloured badge with the record's status in the user's language."""
    return {"tone": TONES.get(obj.status, ""), "label": obj.get_status_display(), "code": obj.status}


@register.simple_tag
def offered_actions(machine, obj, user, internal=()):
    """The transitions offered as buttons: allowed now for this user, minus those with their own page."""
    return [t for t in machine.available(obj, user) if t.name not in internal]
