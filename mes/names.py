"""Master data's Chinese names of English names a generated sentence stores (a test, a recipe parameter,
a checklist item), for a reader of Chinese.

A list of deviations or audit events may show dozens of such sentences: the names of one model are read
once per request (one query: master data tables are small) and kept on the request, so a list costs one
query per model, not one per row, and an edit of the master data shows from the next request on.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language

from audit.context import current_request


def chinese_name(model: type[models.Model], english: str, chinese: str, name: str) -> str:
    """`name` (the `english` field's value) by the newest row's `chinese` field for a reader of Chinese;
    as stored for any other reader, or when no row names it in Chinese."""
    if not name or not (get_language() or "").startswith("zh"):
        return name
    memo = _request_memo()
    if memo is None:  # a task or a command: this name alone
        named = model.objects.filter(**{english: name}).exclude(**{chinese: ""}).order_by("-pk")
        return named.values_list(chinese, flat=True).first() or name
    key = (model._meta.label, english, chinese)
    if key not in memo:
        rows = model.objects.exclude(**{chinese: ""}).order_by("pk").values_list(english, chinese)
        memo[key] = dict(rows)  # in pk order: the newest row's Chinese name wins
    return memo[key].get(name) or name


def _request_memo() -> dict | None:
    info = current_request()
    if info is None or info.request is None:
        return None
    memo = getattr(info.request, "_mes_names", None)
    if memo is None:
        memo = {}
        try:
            info.request._mes_names = memo
        except AttributeError:
            return None
    return memo
