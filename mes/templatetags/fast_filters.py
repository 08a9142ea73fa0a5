"""Faster `truncatechars` and `date` for every template (settings.TEMPLATES "builtins"), same output.

List pages call these once or twice per cell: the audit trail 300 times per page. Django's
`truncatechars` looks up the translated ellipsis (pgettext) and walks the text character by character
even when it is far shorter than the limit; `date` resolves the locale's format on every call. Each
filter here answers the common case directly and hands anything else to Django's own filter:

- `truncatechars`: text (ASCII, so NFC-normal and without combining characters) no longer than the
  limit is returned as it is, which is what Django returns for it.
- `date`: a datetime (already in the current time zone: expects_localtime, as Django's) or a date,
  with a format made only of Y m d (H i s for a datetime) and separators, which no locale changes,
  is formatted directly.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from django import template
from django.template import defaultfilters
from django.template.defaultfilters import stringfilter

register = template.Library()

_FIELDS = {"Y": "{0.year:04d}", "m": "{0.month:02d}", "d": "{0.day:02d}", "H": "{0.hour:02d}", "i": "{0.minute:02d}",
           "s": "{0.second:02d}"}  # fmt: skip
_PLAIN = re.compile(r"[YmdHis :\-/.]+")
_DATE_ONLY = re.compile(r"[Ymd :\-/.]+")  # a date (not a datetime) has no hours: Django refuses those


@register.filter(is_safe=True)
@stringfilter
def truncatechars(value, arg):
    """Django's truncatechars, without its work for ASCII text within the limit."""
    try:
        length = int(arg)
    except ValueError:
        return value
    if 0 < length and len(value) <= length and value.isascii():
        return value
    return defaultfilters.truncatechars(value, arg)


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    """Django's date filter; locale-independent formats of a datetime are formatted directly."""
    if (
        isinstance(value, dt.date)
        and arg
        and _PLAIN.fullmatch(arg)
        and (_DATE_ONLY.fullmatch(arg) or isinstance(value, dt.datetime))
    ):
        return _pattern(arg).format(value)
    return defaultfilters.date(value, arg)


@functools.cache
def _pattern(fmt: str) -> str:
    return "".join(_FIELDS.get(ch, ch.replace("{", "{{").replace("}", "}}")) for ch in fmt)
