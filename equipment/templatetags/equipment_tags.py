from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


def _pct(value):
    return "—" if value is None else f"{value * 100:.1f} %"


@register.simple_tag
def oee_cells(item):
    """The figure cells of one OEE row."""
    cells = [
        f"{item.planned_s / 3600:.1f}",
        f"{item.run_s / 3600:.1f}",
        f"{item.good:,.0f}",
        f"{item.total:,.0f}",
        _pct(item.availability),
        _pct(item.performance),
        _pct(item.quality),
        _pct(item.oee),
    ]
    return format_html_join("", '<td class="pct">{}</td>', ((c,) for c in cells)) or format_html("")


@register.simple_tag
def reading_value(tag, reading):
    """A reading as the operator reads it: the machine state by name, numbers with their unit."""
    if reading is None or reading.value is None:
        return "—"
    if tag.kind == "state":
        from equipment.models import MACHINE_STATE_CODES, MachineState

        return str(MACHINE_STATE_CODES.get(int(reading.value), MachineState.UNKNOWN).label)
    if tag.kind == "alarm":
        from django.utils.translation import gettext

        return gettext("Active") if reading.value else gettext("No alarm")
    text = f"{reading.value:,.3f}".rstrip("0").rstrip(".") if tag.kind == "process" else f"{reading.value:,.0f}"
    return f"{text} {tag.unit}".strip()
