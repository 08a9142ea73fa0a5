"""Genealogy traces: one recursive query over the indexed edge table, whatever the depth.

The graph: lot --(GenealogyEdge: consumed in)--> batch --(Lot.produced_by: made)--> output lot.
Backward from a lot: the batch that made it, the lots that batch consumed, the batches that made
those, and so on down to the raw materials. Forward from a lot: the batches that consumed it,
their output lots, the batches that consumed those, up to finished goods (the recall question).

Each trace is two queries: the root lot, then one WITH RECURSIVE query returning every edge
reached with the lot, material and batch columns joined in. UNION (not UNION ALL) drops an edge
reached twice, so shared sub-trees are walked once and a cycle cannot loop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from materials.models import EXPIRED, EXPIRED_LABEL, Lot, LotStatus

BACKWARD = "backward"
FORWARD = "forward"

_WALK = {
    BACKWARD: """
        SELECT w.lot_id, e.batch_id, e.lot_id
        FROM walk w JOIN materials_lot p ON p.id = w.lot_id
        JOIN materials_genealogyedge e ON e.batch_id = p.produced_by_id
    """,
    FORWARD: """
        SELECT w.lot_id, e.batch_id, o.id
        FROM walk w JOIN materials_genealogyedge e ON e.lot_id = w.lot_id
        LEFT JOIN materials_lot o ON o.produced_by_id = e.batch_id
    """,
}

_SQL = """
WITH RECURSIVE walk(parent_id, batch_id, lot_id) AS (
    SELECT CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(%s AS BIGINT)
    UNION
    {step}
)
SELECT w.parent_id, w.batch_id, b.number, b.status, w.lot_id, l.code, l.status, l.expiry_date, l.unit,
       l.quantity_received, m.code, m.name, m.name_zh, m.type
FROM walk w
LEFT JOIN materials_lot l ON l.id = w.lot_id
LEFT JOIN materials_material m ON m.id = l.material_id
LEFT JOIN batches_batch b ON b.id = w.batch_id
"""


@dataclass
class LotNode:
    id: int
    code: str
    status: str
    expiry_date: object
    unit: str
    quantity: object
    material_code: str
    material_name: str
    material_name_zh: str
    material_type: str

    @property
    def effective_status(self) -> str:
        from django.utils import timezone

        if self.status not in (LotStatus.CONSUMED, LotStatus.REJECTED) and self.expiry_date < timezone.localdate():
            return EXPIRED
        return self.status

    @property
    def status_label(self) -> str:
        return str(EXPIRED_LABEL) if self.effective_status == EXPIRED else str(LotStatus(self.status).label)


@dataclass(frozen=True)
class Link:
    """parent lot --batch--> child lot (child is None for a batch that has made no lot yet)."""

    parent_id: int
    batch_id: int
    batch_number: str
    batch_status: str
    child_id: int | None


@dataclass
class Trace:
    root: LotNode
    direction: str
    lots: dict[int, LotNode]
    links: list[Link]
    children: dict[int, list[Link]] = field(default_factory=dict)

    @property
    def batch_count(self) -> int:
        return len({link.batch_id for link in self.links})

    @property
    def lot_count(self) -> int:
        return len(self.lots) - 1

    def levels(self) -> dict[int, int]:
        """Shortest number of batch steps from the root to each lot."""
        depth = {self.root.id: 0}
        frontier = [self.root.id]
        while frontier:
            nxt = []
            for lot_id in frontier:
                for link in self.children.get(lot_id, ()):
                    if link.child_id is not None and link.child_id not in depth:
                        depth[link.child_id] = depth[lot_id] + 1
                        nxt.append(link.child_id)
            frontier = nxt
        return depth

    def rows(self):
        """Depth-first rows (level, link, child lot) for CSV and reports; each edge once."""
        seen: set[int] = set()
        stack = [(self.root.id, 1)]
        while stack:
            lot_id, level = stack.pop()
            if lot_id in seen:
                continue
            seen.add(lot_id)
            for link in reversed(self.children.get(lot_id, [])):
                yield level, link, self.lots.get(link.child_id) if link.child_id else None
                if link.child_id is not None:
                    stack.append((link.child_id, level + 1))


def trace_lot(lot: Lot | str, direction: str = BACKWARD) -> Trace:
    """The whole backward or forward genealogy of a lot: two queries, whatever the tree size."""
    if direction not in _WALK:
        raise ValueError(direction)
    root = lot if isinstance(lot, Lot) else Lot.objects.get(code=lot)
    lots: dict[int, LotNode] = {}
    links: list[Link] = []
    children: dict[int, list[Link]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(step=_WALK[direction]), [root.pk])
        for (
            parent_id,
            batch_id,
            batch_number,
            batch_status,
            lot_id,
            code,
            status,
            expiry,
            unit,
            qty,
            mcode,
            mname,
            mname_zh,
            mtype,
        ) in cursor.fetchall():
            if lot_id is not None and lot_id not in lots:
                lots[lot_id] = LotNode(lot_id, code, status, expiry, unit, qty, mcode, mname, mname_zh, mtype)
            if parent_id is not None:
                link = Link(parent_id, batch_id, batch_number, batch_status, lot_id)
                links.append(link)
                children[parent_id].append(link)
    for group in children.values():
        group.sort(key=lambda link: (link.batch_number or "", lots[link.child_id].code if link.child_id else ""))
    return Trace(lots[root.pk], direction, lots, links, dict(children))


def _lot_html(node: LotNode, lot_url) -> str:
    tone = {"released": "ok", "quarantine": "warn", "blocked": "danger", "rejected": "danger", EXPIRED: "danger"}.get(
        node.effective_status, "info"
    )
    name = node.material_name_zh if _zh() and node.material_name_zh else node.material_name
    return format_html(
        '<a href="{}" class="strong">{}</a> {} <span class="muted">{}</span> <span class="badge badge-{}">{}</span>',
        lot_url(node.code),
        node.code,
        node.material_code,
        name,
        tone,
        node.status_label,
    )


def _zh() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("zh")


def render_tree(trace: Trace, lot_url) -> str:
    """The trace as nested <details> (expandable without JavaScript); shared sub-trees drawn once."""
    made = _("made in batch") if trace.direction == BACKWARD else _("used in batch")
    expanded: set[int] = set()
    out: list[str] = []

    def walk(lot_id: int, depth: int) -> None:
        links = trace.children.get(lot_id, [])
        if not links:
            return
        if lot_id in expanded:
            out.append(format_html('<li class="muted small">{}</li>', _("(shown above)")))
            return
        expanded.add(lot_id)
        by_batch: dict[int, list[Link]] = defaultdict(list)
        for link in links:
            by_batch[link.batch_id].append(link)
        for group in by_batch.values():
            first = group[0]
            out.append(
                format_html(
                    '<li><details{}><summary>{} <b>{}</b> <span class="muted small">{}</span>'
                    '</summary><ul class="trace-tree">',
                    mark_safe(" open") if depth < 2 else "",
                    made,
                    first.batch_number,
                    first.batch_status,
                )
            )
            for link in group:
                if link.child_id is None:
                    out.append(format_html('<li class="muted">{}</li>', _("no output lot yet")))
                    continue
                node = trace.lots[link.child_id]
                out.append("<li>" + _lot_html(node, lot_url))
                if trace.children.get(link.child_id):
                    out.append('<ul class="trace-tree">')
                    walk(link.child_id, depth + 1)
                    out.append("</ul>")
                out.append("</li>")
            out.append("</ul></details></li>")

    out.append('<ul class="trace-tree trace-root"><li>' + _lot_html(trace.root, lot_url) + '<ul class="trace-tree">')
    walk(trace.root.id, 0)
    out.append("</ul></li></ul>")
    return mark_safe("".join(out))  # noqa: S308 - every piece above is built with format_html
