"""Spreadsheet-safe exports (CSV injection, OWASP): every CSV the application writes goes through here.

A cell whose text begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel or
LibreOffice as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3+cmd|...`). Such a cell is written
with a single quote in front, as OWASP advises, so the spreadsheet shows the text instead of
running it. A plain number ("-5", "+1.5e3") is not a formula and is left as it is; numbers, dates
and None keep their type until the csv module writes them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_safe_cell(value: Any) -> Any:
    """The value, with a quote in front when its text would start a spreadsheet formula."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe_row(values: Iterable[Any]) -> list[Any]:
    return [csv_safe_cell(v) for v in values]


class SafeWriter:
    """csv.writer whose rows are neutralised; writerow returns what the target's write returned."""

    def __init__(self, target, **kwargs) -> None:
        self._writer = csv.writer(target, **kwargs)

    def writerow(self, values: Iterable[Any]):
        return self._writer.writerow(csv_safe_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(target, **kwargs) -> SafeWriter:
    """The only way the application writes CSV (tests/foundation checks no other csv.writer is used)."""
    return SafeWriter(target, **kwargs)
