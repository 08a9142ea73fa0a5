"""Sentences the system writes into records itself (deviation titles, logbook lines, alerts, reasons).

A record keeps one text for everyone, so a generated sentence is stored in English, whatever the
language of the person whose action produced it, and shown in the reader's language: declare the
sentence once with `GeneratedText(gettext_noop("... %(name)s ..."))`, store `text(name=...)`, and
show the field through the `localized` template filter (mes_tags), which recognises a declared
sentence and translates it with the stored values. Text a person typed is shown as typed.

A value may be empty, may itself be a declared sentence (a fault's description inside a logbook
line), or be a word the sentence declares translatable (`words=("source",)`: a choice label or a
verdict, stored in English with `english(label)`): both are shown in the reader's language too. A
value may also be shown through a function the sentence declares (`shown={"qty": unit_in_text}`: a
quantity's unit, a test's Chinese name found by its English one). Never translate on write: a record
stored in Chinese because the request was Chinese reads Chinese to everyone, which is the fault this
module exists to prevent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, trans_real

_DECLARED: dict[str, re.Pattern[str]] = {}
_WORDS: dict[str, frozenset[str]] = {}
_SHOWN: dict[str, dict[str, Callable[[str], str]]] = {}
_FIELD = re.compile(r"%\((\w+)\)[sd]")
_DEPTH = 4  # a sentence inside a sentence inside ...: enough for every real nesting, bounded for safety


def _pattern(msgid: str) -> re.Pattern[str]:
    parts, seen, rx = _FIELD.split(msgid), set(), ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            rx += re.escape(part.replace("%%", "%"))
        elif part in seen:
            rx += f"(?P={part})"
        else:
            seen.add(part)
            rx += f"(?P<{part}>.*?)"
    return re.compile(rx + r"\Z", re.DOTALL)


def _literal_length(msgid: str) -> int:
    return len(_FIELD.sub("", msgid))


class GeneratedText:
    """One generated sentence: `text(**values)` is what the record stores (English)."""

    def __init__(
        self, msgid: str, *, words: tuple[str, ...] = (), shown: dict[str, Callable[[str], str]] | None = None
    ) -> None:
        self.msgid = msgid
        self._format = _FIELD.sub(lambda m: f"%({m.group(1)})s", msgid)
        _DECLARED[msgid] = _pattern(msgid)
        _WORDS[msgid] = frozenset(words)
        _SHOWN[msgid] = dict(shown or {})
        # The most specific sentence first: of two readings recognising as much, it is the one kept.
        ordered = sorted(_DECLARED.items(), key=lambda item: -_literal_length(item[0]))
        _DECLARED.clear()
        _DECLARED.update(ordered)

    def __call__(self, **values) -> str:
        return self._format % {k: "" if v is None else str(v) for k, v in values.items()}

    def __mod__(self, values: dict) -> str:
        """`SENTENCE % {...}`, like the gettext call it replaces: the stored (English) text."""
        return self(**values)

    def __repr__(self) -> str:
        return f"GeneratedText({self.msgid!r})"


def english(label) -> str:
    """A translatable label (a choice's `.label`, a `gettext_lazy` word) as stored: in English.
    Pass the lazy label, not `get_FOO_display()`, which is already in the active language."""
    with translation.override("en"):
        return str(label)


def _parse(text: str, depth: int) -> tuple[int, str]:
    """(characters of `text` recognised as declared wording, the text in the reader's language).

    Several sentences may match one text ("Fault F-1: Fault F-1 dismissed." is a fault description
    holding a dismissal, but also reads as a dismissal of "F-1: Fault F-1"): the reading that
    recognises the most wording, nested sentences included, is the one meant."""
    best: tuple[int, str] = (0, text)
    if not text or depth > _DEPTH:
        return best
    for msgid, pattern in _DECLARED.items():
        match = pattern.match(text)
        if match is None:
            continue
        words, shown, covered, values = _WORDS[msgid], _SHOWN[msgid], len(text), {}
        for key, value in match.groupdict().items():
            covered -= len(value)
            if key in words or key in shown:
                values[key] = (shown[key](value) if key in shown else gettext(value)) if value else value
                covered += len(value) if values[key] != value else 0  # a word recognised is wording too
            else:
                inner, values[key] = _parse(value, depth + 1)
                covered += inner
        if covered > best[0]:
            best = (covered, _fill(msgid, values))
    return best


def _fill(msgid: str, values: dict[str, str]) -> str:
    """The translation of `msgid` with the stored values; the English text if the translation is unusable."""
    translated = gettext(msgid)
    try:
        return _FIELD.sub(lambda m: f"%({m.group(1)})s", translated) % values
    except (KeyError, ValueError, TypeError):
        return _FIELD.sub(lambda m: f"%({m.group(1)})s", msgid) % values


def localized(text: str | None) -> str:
    """A stored text in the reader's language when it is a declared generated sentence, or several
    of them one a line (a deviation listing each limit that was exceeded)."""
    text = text or ""
    covered, shown = _parse(text, 0)
    if not covered and "\n" in text:
        return "\n".join(_parse(line, 0)[1] for line in text.split("\n"))
    return shown


@cache
def _catalogue() -> tuple[frozenset[str], tuple[tuple[str, re.Pattern[str]], ...]]:
    """Every message of the translation catalogues: the plain ones, and patterns for those with fields.

    Refusals (a service's ValidationError) are not declared one by one: there are hundreds. A refusal
    that is stored (an integration message the MES did not apply) is written in English and read back
    by matching it against the catalogue. Django keeps no public list of msgids; `_catalog` of its
    translation objects is what its own JavaScript catalogue view reads."""
    msgids: set[str] = set()
    for code, _name in settings.LANGUAGES:
        if code != "en":
            msgids |= {k for k in trans_real.translation(code)._catalog.keys() if isinstance(k, str)}
    msgids = {m for m in msgids if m and "\x04" not in m}
    fields = sorted((m for m in msgids if _FIELD.search(m)), key=lambda m: -_literal_length(m))
    return frozenset(msgids), tuple((m, _pattern(m)) for m in fields if _literal_length(m) >= 8)


def localized_message(text: str | None) -> str:
    """A stored English message (a refusal) in the reader's language: a declared sentence, else any
    message of the catalogues; anything else as stored."""
    text = text or ""
    covered, shown = _parse(text, 0)
    if covered:
        return shown
    plain, patterns = _catalogue()
    if text in plain:
        return gettext(text)
    for msgid, pattern in patterns:
        match = pattern.match(text)
        if match:
            return _fill(msgid, {k: localized_message(v) for k, v in match.groupdict().items()})
    located = _LOCATION.match(text)  # "0.request_id: No inspection TR-1 in the MES." (a row's field)
    if located:
        return f"{located.group(1)}: {localized_message(located.group(2))}"
    return text


_LOCATION = re.compile(r"([\w.\[\]-]+): (.+)\Z", re.DOTALL)


def localized_errors(errors) -> list[str]:
    """Refusal details as stored (a JSON text, {field: [messages]}, a list or one text), one line a
    message in the reader's language: "field: message" for a field, the message alone otherwise."""
    if isinstance(errors, str):
        try:
            parsed = json.loads(errors)
        except ValueError:
            return [localized_message(errors)] if errors else []
        if not isinstance(parsed, dict | list):
            return [localized_message(errors)]
        errors = parsed
    lines: list[str] = []
    if isinstance(errors, dict):
        for field, messages in errors.items():
            for line in localized_errors(messages if isinstance(messages, list | dict) else str(messages)):
                lines.append(line if field == "non_field_errors" else f"{field}: {line}")
    elif isinstance(errors, list):
        for item in errors:
            lines += localized_errors(item if isinstance(item, list | dict) else str(item))
    return lines


def localized_error_detail(errors):
    """The same structure as stored (what an API client parses), every message in the active language."""
    if isinstance(errors, dict):
        return {field: localized_error_detail(value) for field, value in errors.items()}
    if isinstance(errors, list):
        return [localized_error_detail(value) for value in errors]
    return localized_message(str(errors)) if errors is not None else errors
