from django import template
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext, pgettext

from equipment.models import MACHINE_STATE_CODES, MachineState
from equipment.opcua.nodeids import status_words as words

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
def status_words(code: int) -> str:
    """An OPC UA status code as its name and meaning (BadSensorFailure: ...), not 0x80340000."""
    return words(int(code))


@register.simple_tag
def reading_value(tag, reading):
    """A reading as the operator reads it: the machine state by name, numbers with their unit."""
    if reading is not None and reading.text_value:
        return reading.text_value  # the machine's own word ("Running"), as it sent it
    if reading is None or reading.value is None:
        return "—"
    if tag.kind == "state":
        return str(MACHINE_STATE_CODES.get(int(reading.value), MachineState.UNKNOWN).label)
    if tag.kind == "alarm":
        return pgettext("alarm reading", "Active") if reading.value else gettext("No alarm")
    text = f"{reading.value:,.3f}".rstrip("0").rstrip(".") if tag.kind == "process" else f"{reading.value:,.0f}"
    return f"{text} {tag.unit}".strip()


@register.simple_tag
def board_tile(tile):
    """One tile of the status board, built in Python: the board draws 200+ of them every 5 s, and a
    template loop per tile costs several times more than this (see bench/bench_equipment.py)."""

    eq, u = tile.equipment, tile.usability
    tone = tile.tone
    label = gettext("Blocked") if tone == "blocked" else eq.get_status_display()
    parts = [
        f'<a class="eq-tile st-{tone}" href="{reverse("equipment:detail", args=[eq.pk])}" '
        f'data-testid="tile-{escape(eq.code)}" data-status="{eq.status}" data-usable="{"yes" if u.ok else "no"}">',
        f'<span class="eq-code">{escape(eq.code)} <span class="badge badge-st st-{tone}">{escape(label)}</span></span>',
        f'<span class="eq-name">{escape(eq.display_name)}</span>',
    ]
    if eq.current_batch_id:
        step = f" · {escape(eq.current_step)}" if eq.current_step else ""
        parts.append(f'<span class="small">{escape(gettext("Batch"))} <b>{escape(eq.current_batch)}</b>{step}</span>')
    live = getattr(eq, "live", None)  # OPC UA or MQTT: whichever source keeps it
    if live is not None:
        if live.comm_state == "lost":
            machine = f'<span class="comm-lost">⚠ {escape(gettext("Communication lost"))}</span>'
        else:
            machine = f"{escape(gettext('Machine'))}: {escape(live.get_machine_state_display())}"
            if live.alarm_active:
                machine += f' · <b class="comm-lost">{escape(gettext("Alarm"))} {escape(live.alarm_code)}</b>'
        parts.append(f'<span class="eq-machine">{machine}</span>')
    if u.reasons:
        items = "".join(f"<li>{escape(r)}</li>" for r in u.reasons[:3])
        more = len(u.reasons) - 3
        if more > 0:
            items += f"<li>{escape(ngettext('and %(n)s more', 'and %(n)s more', more) % {'n': more})}</li>"
        parts.append(f'<ul class="eq-reasons">{items}</ul>')
    if u.warnings:
        parts.append('<ul class="eq-warnings">' + "".join(f"<li>{escape(w)}</li>" for w in u.warnings[:2]) + "</ul>")
    parts.append("</a>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
