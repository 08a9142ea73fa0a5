"""The result lines every qualification writes, and their bilingual labels.

A label is stored as its English message id plus parameters; the report renders it in English and in
Chinese (translation.override), so evidence written once reads in both languages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.utils import translation
from django.utils.translation import gettext

PASS, FAIL, INFO = "pass", "fail", "info"


@dataclass
class Line:
    """One check: what was expected, what was found, and whether that passes."""

    area: str
    check: str
    expected: str
    found: str
    status: str
    params: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def as_dict(self) -> dict:
        return asdict(self)


def line(area: str, check: str, expected, found, ok: bool | None, **params) -> Line:
    """A check line; ok=None records information that neither passes nor fails (e.g. the clock source)."""
    status = INFO if ok is None else (PASS if ok else FAIL)
    return Line(area, check, str(expected), str(found), status, params)


def in_language(msgid: str, lang: str, params: dict | None = None) -> str:
    with translation.override(lang):
        text = gettext(msgid)
    return text % params if params else text


def both(msgid: str, params: dict | None = None) -> dict[str, str]:
    """{"en": ..., "zh": ...} of a message id (the report shows both)."""
    return {"en": in_language(msgid, "en", params), "zh": in_language(msgid, "zh-hans", params)}
