"""Form widgets that render Django's own widget templates in Python: same HTML, a fraction of the CPU.

A list page's filter form renders a text box in two template files and a drop-down in three per
option (select.html includes select_option.html, which includes attrs.html, for every option). For
the office lists that was a quarter of the page's CPU. These widgets produce exactly what
Django's renderer returns (its templates' output, stripped; the options keep their newlines) when
the templates are Django's own and every value is plain text; anything else (optgroups with odd labels, a project that overrides the widget
templates through FORM_RENDERER) goes through Django's rendering as before.
tests/foundation/test_widgets.py compares both renderings.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeData, mark_safe

_INPUTS = {f"django/forms/widgets/{kind}.html" for kind in ("text", "number", "date", "email", "search")}
_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"


def _value(value) -> str:
    """`{{ value|stringformat:"s" }}`: safe text as it is, anything else escaped."""
    if isinstance(value, tuple):
        value = str(value)
    text = str(value)  # what "%s" gives for anything but a tuple
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {escape(name)}" if value is True else f' {escape(name)}="{_value(value)}"')
    return "".join(out)


def _text(value) -> str | None:
    """`{{ value }}` of text; None for anything the template would localize (numbers, dates)."""
    if isinstance(value, SafeData):
        return str(value)
    if isinstance(value, str | Promise):
        return escape(value)
    return None


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_value(widget["value"])}"'
    return f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select(widget: dict) -> str | None:
    out = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            label = _text(group_name)
            if label is None:
                return None
            out.append(f'\n  <optgroup label="{label}">')
        for option in group_choices:
            label = _text(option["label"])
            if label is None or option["template_name"] != _OPTION:
                return None
            out.append(f'\n  <option value="{_value(option["value"])}"{_attrs(option["attrs"])}>{label}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _default_renderer(renderer) -> bool:
    """Django's own templates: the default renderer, and no project-wide renderer that may override them."""
    default = settings.FORM_RENDERER == "django.forms.renderers.DjangoTemplates"
    return default and (renderer is None or type(renderer) is DjangoTemplates)


class _PythonRendered:
    def _render(self, template_name, context, renderer=None):
        html = None
        if _default_renderer(renderer):
            widget = context["widget"]
            if template_name in _INPUTS:
                html = _input(widget)
            elif template_name == _SELECT:
                html = _select(widget)
        if html is None:
            return super()._render(template_name, context, renderer)
        return mark_safe(html)  # noqa: S308 (every value escaped above, as the templates do)


class TextInput(_PythonRendered, forms.TextInput):
    pass


class NumberInput(_PythonRendered, forms.NumberInput):
    pass


class DateInput(_PythonRendered, forms.DateInput):
    pass


class Select(_PythonRendered, forms.Select):
    pass
