from decimal import Decimal

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit.models import Signature
from audit.services import object_label
from audit.signatures import signature_is_valid, signatures_of_record
from mes.generated import localized as _localized
from mes.generated import localized_errors as _localized_errors
from mes.prepared import PreparedInstance
from mes.roles import role_label as _role_label
from mes.units import quantity_text

register = template.Library()


# A record's signatures (the step screen, the batch and its review show them on every request): the
# query compiled once per process (mes.prepared), every call a query.
_SIGNATURES = PreparedInstance(Signature, signatures_of_record)


@register.inclusion_tag("includes/signatures.html")
def signatures_of(obj):
    """Render every signature of `obj` with whether it still matches the record's content."""
    found = _SIGNATURES.all(object_label(obj), str(obj.pk))
    return {"signatures": [{"signature": s, "valid": signature_is_valid(s, obj)} for s in found]}


@register.simple_tag(takes_context=True)
def sent_in_place(context) -> str:
    """The attributes of a page form that htmx sends, answered with the page as it then stands: only the
    page's main content is put in place, so the page is not requested a second time after a redirect.
    The window goes to the top, where the outcome is shown. A second submit while the first is on its way
    is dropped, and the button is disabled meanwhile. An answer that is not the page (a server error)
    loads the page again (mes.js). Without JavaScript the form posts and is redirected, as before."""
    return format_html(
        'hx-post="{}" hx-target="main.content" hx-select="main.content" hx-swap="outerHTML show:window:top"'
        ' hx-sync="this:drop" hx-disabled-elt="find button" data-unsent="{}"',
        context["request"].path,
        _("Not sent: the tablet could not reach the server. Check the network and send it again."),
    )


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
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | float):
        return quantity_text(value)
    return value


@register.filter
def role_label(code) -> str:
    """A role code (group name, "qc") as people call the role, in the reader's language ("QC 检验员")."""
    return _role_label(str(code))


@register.filter
def localized(value):
    """A generated sentence stored in a record (mes.generated), in the reader's language."""
    return _localized(value)


@register.filter
def localized_errors(value) -> list[str]:
    """A stored refusal (an integration message's errors, JSON or text), one message a line, in the
    reader's language."""
    return _localized_errors(value)


# The side navigation is the same for every page of users with the same menu, in the same language, on
# the same page: rendered once per (language, menu entries, current page) in each process, then reused.
_NAVIGATION_HTML: dict[tuple, str] = {}
_NAVIGATION_KEEP = 2000


@register.simple_tag(takes_context=True)
def navigation_menu(context) -> str:
    sections = context.get("nav_sections")
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    url_name, view_name = (match.url_name, match.view_name) if match else ("", "")
    entries = tuple((section, tuple(i.url_name for i in items)) for section, items in (sections or {}).items())
    if not any(view_name in names for _section, names in entries):
        view_name = ""  # a page that is not in the menu: no entry is marked, one rendering serves them all
    key = (get_language(), get_script_prefix(), entries, url_name == "home", view_name)
    html = _NAVIGATION_HTML.get(key)
    if html is None:
        html = render_to_string(
            "includes/navigation.html",
            {"nav_sections": sections, "active_url_name": url_name, "active_view_name": view_name},
        )
        if len(_NAVIGATION_HTML) >= _NAVIGATION_KEEP:
            _NAVIGATION_HTML.clear()
        _NAVIGATION_HTML[key] = html
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, which escaped it
