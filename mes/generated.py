"""Sentences the system writes into records itself (deviation titles, generated descriptions).

A record keeps one text for everyone, so a generated sentence is stored in English, whatever the
language of the person whose action produced it, and shown in the reader's language: declare the
sentence once with `GeneratedText(gettext_noop("... %(name)s ..."))`, store `text(name=...)`, and
show the field through the `localized` template filter (mes_tags), which recognises a declared
sentence and translates it with the stored values. Text a person typed is shown as typed.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext

_DECLARED: dict[str, re.Pattern[str]] = {}
_FIELD = re.compile(r"%\((\w+)\)s")


def _pattern(msgid: str) -> re.Pattern[str]:
    parts, seen, rx = _FIELD.split(msgid), set(), ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            rx += re.escape(part.replace("%%", "%"))
        elif part in seen:
            rx += f"(?P={part})"
        else:
            seen.add(part)
            rx += f"(?P<{part}>.+?)"
    return re.compile(rx + r"\Z", re.DOTALL)


class GeneratedText:
    """One generated sentence: `text(**values)` is what the record stores (English)."""

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid
        _DECLARED[msgid] = _pattern(msgid)

    def __call__(self, **values) -> str:
        return self.msgid % {k: str(v) for k, v in values.items()}


def localized(text: str | None) -> str:
    """A stored text in the reader's language when it is a declared generated sentence."""
    text = text or ""
    for msgid, pattern in _DECLARED.items():
        match = pattern.match(text)
        if match:
            return gettext(msgid) % match.groupdict()
    return text
