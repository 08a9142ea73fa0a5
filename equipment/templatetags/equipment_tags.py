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
