"""Invisible direction controls are refused in names and free text (Trojan Source, CVE-2021-42574).

A right-to-left override (U+202E) and its kin make a stored text display differently from what it
is: "lot 1234⁮56" reads as another lot number, a reason can hide words. They have no use in a
plant's names or reasons, so they are refused with a clear message: in every form's text fields
(mes.apps adds the validator to django.forms.CharField, so the pages, the Django admin and every
ModelForm share it) and in the services that take free-text reasons (audit_context, signatures,
workflow transitions), so an API or a script cannot bypass the forms.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI
    + ["\u200e", "\u200f"]  # LRM RLM
)
MESSAGE = _(
    "The text contains an invisible direction-control character (%(codes)s) that would make it display "
    "differently from what is stored. Remove it and type the text again."
)


def bidi_controls_in(text: str) -> list[str]:
    """The direction-control characters found in `text`, as U+XXXX codes, in order of appearance."""
    return sorted({f"U+{ord(ch):04X}" for ch in text if ch in BIDI_CONTROLS})


def validate_no_bidi(value) -> None:
    """Form and model validator: refuses text holding a direction-control character."""
    if not isinstance(value, str):
        return
    codes = bidi_controls_in(value)
    if codes:
        raise ValidationError(MESSAGE, code="bidi_control", params={"codes": ", ".join(codes)})


def clean_free_text(value: str | None) -> str:
    """For services: the text, or ValidationError when it holds a direction-control character."""
    validate_no_bidi(value or "")
    return value or ""


def install_form_validator() -> None:
    """Every django.forms.CharField (and the fields derived from it that keep its defaults) refuses
    direction controls: the one place every page, admin form and ModelForm of the project passes."""
    if validate_no_bidi not in forms.CharField.default_validators:
        forms.CharField.default_validators = [*forms.CharField.default_validators, validate_no_bidi]
