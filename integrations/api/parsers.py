"""Inbound JSON, parsed strictly: what cannot be stored or meant as data is refused (400), not a 500.

Python's json module accepts NaN and Infinity, turns 1e999 into infinity, keeps lone UTF-16
surrogates (`"\\ud800"`) that PostgreSQL cannot store, and recurses once per nesting level. Here
each of those is refused with a reason the sender can act on.
"""

from __future__ import annotations

import json
import math
import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]")


def _refuse_constant(name: str):
    raise ParseError(_("The number %(value)s is not allowed in JSON.") % {"value": name})


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(_("The number %(value)s is too large.") % {"value": text[:40]})
    return value


def _check_depth(text: str) -> None:
    depth = deepest = 0
    for bracket in _NOT_BRACKETS.sub("", _STRINGS.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise ParseError(_("The JSON is nested more than %(n)d levels deep.") % {"n": MAX_DEPTH})


def _check_text(value) -> None:
    """Every string (and key) must be storable text: no lone surrogates, no NUL characters."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError(_("The JSON contains a lone surrogate (not a character).")) from None
        if "\x00" in value:
            raise ParseError(_("The message contains NUL characters."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def strict_json_loads(raw: bytes | str):
    """Parse JSON or raise ParseError saying why it is refused."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError(_("The request body is not UTF-8 text.")) from None
    _check_depth(raw)
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise ParseError(_("The JSON is nested too deeply.")) from None
    except ValueError as exc:
        raise ParseError(_("The request body is not valid JSON: %(error)s") % {"error": exc}) from None
    _check_text(value)
    return value


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with the checks above (the API's default parser)."""

    def parse(self, stream, media_type=None, parser_context=None):
        return strict_json_loads(stream.read() if stream is not None else b"")
