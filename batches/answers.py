"""Yes/no and pass/fail answers of in-process checks, stored as language-independent codes.

A check whose expected answer is one of these is answered with buttons, never typed: the stored
value is the code ("yes", "no", "pass", "fail") whatever the operator's language, and the page
shows the code in the reader's language. Older records (and recipes) that hold "Yes" or "是" map to
the same codes, so nothing already recorded changes its meaning.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LABELS = {"yes": _("Yes"), "no": _("No"), "pass": _("Pass"), "fail": _("Fail")}
PAIRS = {"yes": ("yes", "no"), "no": ("yes", "no"), "pass": ("pass", "fail"), "fail": ("pass", "fail")}
# What people and older records wrote for each code (compared case-insensitively).
SYNONYMS = {
    "yes": ("yes", "y", "true", "ok", "是", "是的", "对"),
    "no": ("no", "n", "false", "否", "不是", "不"),
    "pass": ("pass", "passed", "合格", "通过", "符合"),
    "fail": ("fail", "failed", "不合格", "未通过", "不通过", "不符合"),
}
_LOOKUP = {word: code for code, words in SYNONYMS.items() for word in words}


def answer_code(text: str | None) -> str | None:
    """The language-independent code of a yes/no or pass/fail answer, or None for any other text."""
    return _LOOKUP.get((text or "").strip().lower())


def answer_choices(expected: str | None) -> list[tuple[str, str]]:
    """The buttons of a check expecting `expected` ([] when it is not a yes/no or pass/fail check)."""
    code = answer_code(expected)
    return [(c, str(LABELS[c])) for c in PAIRS[code]] if code else []


def answer_label(text: str | None) -> str:
    """A recorded or expected answer in the reader's language (other text unchanged)."""
    code = answer_code(text)
    return str(LABELS[code]) if code else (text or "")
