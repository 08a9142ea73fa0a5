"""Side-by-side difference between two versions of a master batch record."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from orders.models import Recipe

_NUMBER = re.compile(r"-?\d+\.\d+")
HEADER = ("title", "batch_size", "unit", "expected_yield", "yield_min", "yield_max", "description")


@dataclass
class DiffRow:
    key: str
    field: str
    old: Any
    new: Any
    kind: str  # added, removed, changed


@dataclass
class DiffSection:
    title: Any
    rows: list[DiffRow] = field(default_factory=list)


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return f"{Decimal(value).normalize():f}"  # 150.0000 -> 150
    return str(value)


def _compare(section: DiffSection, old: dict[str, dict], new: dict[str, dict], label) -> None:
    for key in sorted(set(old) | set(new), key=lambda k: (len(k), k)):
        a, b = old.get(key), new.get(key)
        if a is None:
            section.rows.append(DiffRow(key, str(_("(whole line)")), "—", label(b), "added"))
        elif b is None:
            section.rows.append(DiffRow(key, str(_("(whole line)")), label(a), "—", "removed"))
        else:
            for name in a:
                if name in ("checks", "parameters"):
                    continue
                if a[name] != b.get(name):
                    section.rows.append(DiffRow(key, name, _fmt(a[name]), _fmt(b.get(name)), "changed"))


def recipe_diff(old: Recipe, new: Recipe) -> list[DiffSection]:
    """What changed from `old` to `new`: header, bill of materials, steps, checks, parameters."""
    a, b = old.signature_content(), new.signature_content()
    header = DiffSection(_("Header"))
    for name in HEADER:
        if a.get(name) != b.get(name):
            header.rows.append(
                DiffRow(
                    str(new._meta.get_field(name).verbose_name), name, _fmt(a.get(name)), _fmt(b.get(name)), "changed"
                )
            )
    bom = DiffSection(_("Bill of materials"))
    _compare(
        bom,
        {x["material"]: x for x in a["bom"]},
        {x["material"]: x for x in b["bom"]},
        lambda x: f"{_fmt(x['quantity'])} {x['unit']} ±{_fmt(x['tolerance_pct'])}%",
    )
    steps = DiffSection(_("Steps"))
    step_a = {str(s["number"]): s for s in a["steps"]}
    step_b = {str(s["number"]): s for s in b["steps"]}
    _compare(steps, step_a, step_b, lambda s: s["title"])
    params, checks = DiffSection(_("Process parameters")), DiffSection(_("In-process checks"))
    for number in sorted(set(step_a) | set(step_b), key=int):
        pa = {f"{number} · {p['name']}": p for p in step_a.get(number, {}).get("parameters", [])}
        pb = {f"{number} · {p['name']}": p for p in step_b.get(number, {}).get("parameters", [])}
        _compare(
            params, pa, pb, lambda p: f"{_fmt(p['target'])} {p['unit']} [{_fmt(p['minimum'])}–{_fmt(p['maximum'])}]"
        )
        ca = {f"{number} · {c['number']}": c for c in step_a.get(number, {}).get("checks", [])}
        cb = {f"{number} · {c['number']}": c for c in step_b.get(number, {}).get("checks", [])}
        _compare(checks, ca, cb, lambda c: c["question"])
    return [header, bom, steps, params, checks]
