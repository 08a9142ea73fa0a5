"""Genealogy traces: one recursive query over the indexed edge table, whatever the depth.

The graph: lot --(GenealogyEdge: consumed in)--> batch --(Lot.produced_by: made)--> output lot.
Backward from a lot: the batch that made it, the lots that batch consumed, the batches that made
those, and so on down to the raw materials. Forward from a lot: the batches that consumed it,
their output lots, the batches that consumed those, up to finished goods (the recall question).

Each trace is two queries: the root lot, then one WITH RECURSIVE query returning every edge
reached with the lot, material and batch columns and the dispensed containers on the edge joined in. UNION (not UNION ALL) drops an edge reached twice, so shared sub-trees
are walked once and a cycle cannot loop.

Dispensed containers (issue 19) sit on the lot -> batch edge: source lot -> container -> batch.
A container is not a lot of its own: its quantity left the source lot's stock in the issue the
moment it was weighed (the ledger is unchanged), so it has no stock, status or expiry to walk
from; it is a node on the edge, carrying its net weight, balance and time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from materials.batch_source import batch_status_choices
from materials.models import EXPIRED, EXPIRED_LABEL, Lot, LotStatus

BACKWARD = "backward"
FORWARD = "forward"

# Each step carries the columns the page needs (batch number and status, the lot's own columns and
# its producing batch), each found by an index look-up, so the final select only adds the
# material (a small table): no join of the whole lot or batch table against an estimated row count.
_LOT = "{a}.id, {a}.code, {a}.status, {a}.expiry_date, {a}.unit, {a}.quantity_received, {a}.material_id, {a}.produced_by_id"
_WALK = {
    BACKWARD: f"""
        SELECT w.lot_id, b.id, b.number, b.status, {_LOT.format(a="c")}
        FROM walk w JOIN batches_batch b ON b.id = w.produced_by_id
        JOIN materials_genealogyedge e ON e.batch_id = b.id
        JOIN materials_lot c ON c.id = e.lot_id
    """,
    FORWARD: f"""
        SELECT w.lot_id, b.id, b.number, b.status, {_LOT.format(a="o")}
        FROM walk w JOIN materials_genealogyedge e ON e.lot_id = w.lot_id
        JOIN batches_batch b ON b.id = e.batch_id
        LEFT JOIN materials_lot o ON o.produced_by_id = e.batch_id
    """,
}

_SQL = f"""
WITH RECURSIVE walk(parent_id, batch_id, batch_number, batch_status, lot_id, code, status, expiry_date, unit,
                    quantity, material_id, produced_by_id) AS (
    SELECT CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(40)), CAST(NULL AS VARCHAR(30)),
           {_LOT.format(a="r")}
    FROM materials_lot r WHERE r.id = %s
    UNION
    {{step}}
)
SELECT w.parent_id, w.batch_id, w.batch_number, w.batch_status, w.lot_id, w.code, w.status, w.expiry_date, w.unit,
       w.quantity, m.code, m.name, m.name_zh, m.type,
       d.container_code, d.lot_id, d.net, d.unit, q.code, d.read_at, d.created_at, d.manual
FROM walk w LEFT JOIN materials_material m ON m.id = w.material_id
LEFT JOIN materials_dispenseentry d ON d.batch_id = w.batch_id AND d.lot_id = {{consumed}}
LEFT JOIN equipment_equipment q ON q.id = d.balance_id
"""
# The lot consumed on a walked edge: the child going backward, the parent going forward.
_CONSUMED = {BACKWARD: "w.lot_id", FORWARD: "w.parent_id"}


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
        if self.status not in (LotStatus.CONSUMED, LotStatus.REJECTED) and self.expiry_date < timezone.localdate():
            return EXPIRED
        return self.status

    @property
    def status_label(self) -> str:
        return str(EXPIRED_LABEL) if self.effective_status == EXPIRED else str(LotStatus(self.status).label)


@dataclass(frozen=True)
class ContainerNode:
    """A dispensed container on a lot -> batch edge (DispenseEntry), as the trace shows it."""

    code: str
    lot_id: int
    batch_id: int
    net: object
    unit: str
    balance_code: str
    at: object
    manual: bool

    @property
    def net_text(self) -> str:
        return f"{format(self.net.normalize(), 'f')} {self.unit}"


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
    containers: dict[tuple[int, int], list[ContainerNode]] = field(default_factory=dict)

    def source_lot_id(self, link: Link) -> int | None:
        """The lot consumed on this link's edge: the child going backward, the parent going forward."""
        return link.child_id if self.direction == BACKWARD else link.parent_id

    def containers_of(self, link: Link) -> list[ContainerNode]:
        """The containers dispensed from the consumed lot into the link's batch (source lot -> container -> batch)."""
        return self.containers.get((self.source_lot_id(link), link.batch_id), [])

    def container_rows(self) -> list[tuple[ContainerNode, str, str]]:
        """(container, source lot code, batch number) for every container reached, for reports."""
        numbers = {link.batch_id: link.batch_number for link in self.links}
        rows = [
            (c, self.lots[c.lot_id].code, numbers.get(c.batch_id, ""))
            for group in self.containers.values()
            for c in group
        ]
        return sorted(rows, key=lambda row: (row[2], row[1], row[0].code))

    @property
    def container_count(self) -> int:
        return sum(len(group) for group in self.containers.values())

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
    """The whole backward or forward genealogy of a lot, its dispensed containers included: two
    queries (one with a Lot given), whatever the tree size and the number of containers."""
    if direction not in _WALK:
        raise ValueError(direction)
    root = lot if isinstance(lot, Lot) else Lot.objects.get(code=lot)
    lots: dict[int, LotNode] = {}
    links: list[Link] = []
    children: dict[int, list[Link]] = defaultdict(list)
    # A container joins each walked row of its edge (forward, once per output lot of the batch).
    containers: dict[tuple[int, int], list[ContainerNode]] = defaultdict(list)
    seen: set[str] = set()
    edges: set[tuple] = set()
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(step=_WALK[direction], consumed=_CONSUMED[direction]), [root.pk])
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
            *container,
        ) in cursor.fetchall():
            if container[0] is not None and container[0] not in seen:
                seen.add(container[0])
                containers[(container[1], batch_id)].append(_container(batch_id, container))
            if lot_id is not None and lot_id not in lots:
                lots[lot_id] = LotNode(lot_id, code, status, expiry, unit, qty, mcode, mname, mname_zh, mtype)
            if parent_id is not None and (parent_id, batch_id, lot_id) not in edges:
                edges.add((parent_id, batch_id, lot_id))
                link = Link(parent_id, batch_id, batch_number, batch_status, lot_id)
                links.append(link)
                children[parent_id].append(link)
    for group in children.values():
        group.sort(key=lambda link: (link.batch_number or "", lots[link.child_id].code if link.child_id else ""))
    for group in containers.values():
        group.sort(key=lambda c: (c.at, c.code))
    return Trace(lots[root.pk], direction, lots, links, dict(children), dict(containers))


def _container(batch_id: int, row) -> ContainerNode:
    code, lot_id, net, unit, balance, read_at, created_at, manual = row
    if isinstance(net, float | int | str):  # SQLite hands back a REAL or a string for a decimal column
        net = Decimal(str(net))
    at = read_at or created_at
    if isinstance(at, str):
        at = parse_datetime(at)
    if at is not None and timezone.is_naive(at):  # SQLite's raw cursor: a naive timestamp, stored in UTC
        at = timezone.make_aware(at, dt.UTC)
    return ContainerNode(code, lot_id, batch_id, net, unit, balance or "", at, bool(manual))


_TONES = {"released": "ok", "quarantine": "warn", "blocked": "danger", "rejected": "danger", EXPIRED: "danger"}


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def render_tree(trace: Trace, lot_url) -> str:
    """The trace as nested <details> (expandable without JavaScript); shared sub-trees drawn once.

    Built with plain string joins and `escape` rather than templates: a forward trace can reach
    thousands of lots and the page must still come in well under 200 ms.
    """
    zh = _zh()
    made = escape(_("made in batch") if trace.direction == BACKWARD else _("used in batch"))
    shown, no_output = escape(_("(shown above)")), escape(_("no output lot yet"))
    batch_states = {value: escape(str(label)) for value, label in batch_status_choices()}
    container_word, manual_word = escape(_("container")), escape(_("typed by exception"))
    labels: dict[str, str] = {}
    expanded: set[int] = set()
    out: list[str] = []

    def lot_html(node: LotNode) -> str:
        status = node.effective_status
        if status not in labels:
            labels[status] = escape(node.status_label)
        name = node.material_name_zh if zh and node.material_name_zh else node.material_name
        return (
            f'<a href="{escape(lot_url(node.code))}" class="strong">{escape(node.code)}</a> '
            f'{escape(node.material_code)} <span class="muted">{escape(name)}</span> '
            f'<span class="badge badge-{_TONES.get(status, "info")}">{labels[status]}</span>'
        )

    def containers_html(link: Link) -> str:
        """source lot -> container -> batch: the containers weighed on this edge, code, net, balance, time."""
        parts = []
        for c in trace.containers_of(link):
            at = escape(timezone.localtime(c.at).strftime("%Y-%m-%d %H:%M")) if c.at else ""
            flag = f' <span class="badge badge-warn">{manual_word}</span>' if c.manual else ""
            parts.append(
                f'<span class="trace-container" data-testid="trace-container">{container_word} '
                f"<b>{escape(c.code)}</b> {escape(c.net_text)} "
                f'<span class="muted small">{escape(c.balance_code)} {at}</span>{flag}</span>'
            )
        return '<div class="trace-containers">' + " ".join(parts) + "</div>" if parts else ""

    def walk(lot_id: int, depth: int) -> None:
        links = trace.children.get(lot_id, [])
        if not links:
            return
        if lot_id in expanded:
            out.append(f'<li class="muted small">{shown}</li>')
            return
        expanded.add(lot_id)
        by_batch: dict[int, list[Link]] = defaultdict(list)
        for link in links:
            by_batch[link.batch_id].append(link)
        for group in by_batch.values():
            first = group[0]
            # Forward, the walked lot feeds the batch: its containers come before the batch.
            via = containers_html(first) if trace.direction == FORWARD else ""
            out.append(
                f"<li><details{' open' if depth < 2 else ''}><summary>{via}{made} <b>{escape(first.batch_number)}"
                f'</b> <span class="muted small">{batch_states.get(first.batch_status, "")}</span></summary>'
                '<ul class="trace-tree">'
            )
            for link in group:
                if link.child_id is None:
                    out.append(f'<li class="muted">{no_output}</li>')
                    continue
                # Backward, the child lot fed the batch: batch <- its containers <- the lot.
                via = containers_html(link) if trace.direction == BACKWARD else ""
                out.append("<li>" + via + lot_html(trace.lots[link.child_id]))
                if trace.children.get(link.child_id):
                    out.append('<ul class="trace-tree">')
                    walk(link.child_id, depth + 1)
                    out.append("</ul>")
                out.append("</li>")
            out.append("</ul></details></li>")

    out.append('<ul class="trace-tree trace-root"><li>' + lot_html(trace.root) + '<ul class="trace-tree">')
    walk(trace.root.id, 0)
    out.append("</ul></li></ul>")
    return mark_safe("".join(out))  # noqa: S308 - every value above passed through escape()
