"""Table rows of the busiest office lists, built in Python: the same HTML as their template loops.

A list page of 50 rows ran its row template some 50 x 20 times per request (variable lookups,
`{% url %}`, filters, auto-escaping), most of the page's CPU. Each filter here takes the page and
returns one safe string per row, exactly what the loop it replaces rendered (the leading and trailing
whitespace of the loop body included), so the page's HTML is unchanged. The values go through the
same functions the template called (escape, the fast `truncatechars`/`date`, `localized`,
`dotted_breaks`); tests/foundation/test_list_rows.py compares each row with the template's loop.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from django import template
from django.conf import settings
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime

from mes.generated import localized
from mes.templatetags.fast_filters import date, truncatechars
from mes.templatetags.mes_tags import dotted_breaks
from mes.units import unit_label

register = template.Library()

# What django.urls.reverse leaves unquoted in a path (RFC 3986 sub-delimiters and "/~:@").
_URL_SAFE = "!$&'()*+,;=/~:@"


class _Path:
    """A URL with <str> path segments, reversed once per page: `reverse` per row cost more than the
    row's text. A segment `reverse` would refuse or treat specially (empty, holding "/") goes through
    `reverse` itself, which then answers (or fails) as the template's `{% url %}` did."""

    def __init__(self, name: str, segments: int):
        self.name = name
        sample = reverse(name, args=["0"] * segments)
        self.prefix = sample[: -len("0/" * segments)]

    def __call__(self, *args) -> str:
        texts = [str(a) for a in args]
        if all(t and "/" not in t for t in texts):
            return self.prefix + "".join(quote(t, safe=_URL_SAFE) + "/" for t in texts)
        return reverse(self.name, args=texts)


def escape(value) -> str:
    """django.utils.html.escape for the plain values of a row (without its lazy-string wrapper)."""
    return html.escape(str(value))


def _local_date(value, fmt: str) -> str:
    return date(template_localtime(value), fmt)


@register.filter
def audit_event_rows(page) -> list[SafeString]:
    """The rows of the audit trail (templates/audit/event_list.html) for the events of `page`."""
    detail, history = _Path("audit:event_detail", 1), _Path("audit:record_history", 2)
    return [SafeString(_audit_row(e, detail, history)) for e in page]


def _audit_row(e, detail: _Path, history: _Path) -> str:
    record = ""
    if e.object_type:
        url = escape(history(e.object_type, e.object_id or "-"))
        record = f'<a href="{url}">{escape(e.object_type)} {escape(truncatechars(e.object_repr, 40))}</a>'
    changes = "".join(_audit_change(name, old, new) for name, old, new in e.changes()[:4])
    at = template_localtime(e.timestamp)
    return (
        f'\n    <tr><td><a href="{escape(detail(e.seq))}">{e.seq}</a></td>\n'
        f'      <td><span class="nowrap">{escape(date(at, "Y-m-d"))}</span> '
        f'<span class="nowrap">{escape(date(at, "H:i:s"))}</span></td>'
        f"<td>{escape(e.username)}</td><td><code>{dotted_breaks(e.action)}</code></td>\n"
        f'      <td class="record">{record}</td>\n'
        f'      <td class="changes">{changes}</td>\n'
        f"      <td>{escape(truncatechars(localized(e.reason), 60))}</td></tr>\n  "
    )


def _audit_change(name, old, new) -> str:
    before = "" if old is None else f"<s>{escape(truncatechars(str(old), 30))}</s> → "
    return f"<div><b>{escape(name)}</b>: {before}{escape(truncatechars(str(new), 40))}</div>"


@register.filter
def lot_rows(page, batch_word: str) -> list[SafeString]:
    """The rows of the lot list (materials/lot_list.html) for the lots of `page`; `batch_word` is the
    template's translated "batch" (it stays in the materials catalogue)."""
    detail = _Path("materials:lot_detail", 1)
    return [SafeString(_lot_row(lot, detail, batch_word)) for lot in page]


def _lot_row(lot, detail: _Path, batch_word: str) -> str:
    material = lot.material
    if lot.produced_by:
        source = f"{escape(batch_word)} {escape(lot.produced_by.number)}"
    else:
        source = f'{escape(lot.supplier)} <span class="muted small">{escape(lot.supplier_lot)}</span>'
    return (
        f'\n    <tr><td class="ident"><a class="strong" href="{escape(detail(lot.code))}">{escape(lot.code)}</a></td>\n'
        f'      <td>{escape(material.code)}<div class="small muted">{escape(material.display_name)}</div></td>\n'
        f'      <td><span class="badge badge-{escape(lot.status_tone)}">{escape(lot.get_effective_status_display())}'
        "</span></td>\n"
        f'      <td class="nowrap">{escape(_local_date(lot.expiry_date, "Y-m-d"))}</td>\n'
        f'      <td class="num">{floatformat(lot.stock, "-3")} {escape(unit_label(lot.unit))}</td>\n'
        f"      <td>{source}</td>\n"
        f'      <td class="nowrap small">{escape(_local_date(lot.received_at, "Y-m-d H:i"))}</td></tr>\n  '
    )


@register.filter
def step_buttons(links, current) -> SafeString:
    """The step screen's bar of step buttons (batches/step.html), one per step of the batch, `current`
    highlighted: `links` are the view's (step, url) pairs. A batch of many steps ran the loop's lookups,
    tag and localized number once per step on the page every operator action redirects to."""
    return SafeString(
        "".join(
            f'<a class="btn {"btn-primary" if st.pk == current.pk else "btn-secondary"}" '
            f'href="{escape(url)}">{escape(_number(st.number))}</a>'
            for st, url in links
        )
    )


def _number(value) -> str:
    """`{{ value }}` of a number: an int without thousand separators is its digits; the rest as Django
    localizes it."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return str(localize(value))
