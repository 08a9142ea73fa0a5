"""Work cards on the home page: each app contributes what is waiting for the user's roles.

`<app>/work.py` defines `cards(user) -> list[WorkCard]`; the home page shows them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mes.registry import _app_modules


@dataclass(frozen=True)
class WorkCard:
    title: Any
    count: int
    url: str
    hint: Any = ""
    tone: str = "info"  # info, warn, danger, ok


def work_cards(user) -> list[WorkCard]:
    cards: list[WorkCard] = []
    for _, mod in _app_modules("work"):
        cards.extend(mod.cards(user))
    return cards
