"""Dispensed containers in the genealogy (issue 19): source lot -> container -> batch, both ways,
with a constant number of queries whatever the number of containers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from equipment.balances.simulator import BalanceSimulator
from equipment.services.balance import balance_tare
from materials.genealogy import BACKWARD, FORWARD, render_tree, trace_lot
from materials.requirements import Requirement
from materials.services import lot_create_output
from materials.services.dispense import dispense_capture
from tests.materials.balances import make_balance


@pytest.fixture
def sim():
    s = BalanceSimulator(serial="B500123", capacity="6200").start()
    yield s
    s.stop()


@pytest.fixture
def bal(sim, users):
    return make_balance("BAL-01", sim, checker=users["operator"])


@pytest.fixture
def line(api):
    # 1 kg ± 100 %: several 250 g containers fit in one line.
    return Requirement(material=api, quantity=Decimal("1.000"), unit="kg", tolerance_pct=Decimal("100"), line_ref="10")


def dispense(sim, bal, batch, line, lot, user, net="250.00"):
    sim.put("85.30")
    balance_tare(balance=bal)
    sim.add(net)
    return dispense_capture(user=user, batch=batch, requirement=line, lot_code=lot.code, balance=bal)


def count_queries(code, direction):
    with CaptureQueriesContext(connection) as ctx:
        trace = trace_lot(code, direction)
    return trace, len(ctx.captured_queries)


@pytest.mark.req("MAT-9")
def test_container_is_a_node_between_source_lot_and_batch_both_ways(sim, bal, line, released, api, batch, users, wh):
    source = released(api, "5")
    op = users["operator"]
    first = dispense(sim, bal, batch, line, source, op)
    second = dispense(sim, bal, batch, line, source, op, net="240.00")
    output = lot_create_output(user=op, batch=batch, quantity="0.45", unit="kg", location=wh)

    forward = trace_lot(source.code, FORWARD)
    (link,) = forward.links
    assert (link.parent_id, link.batch_number, link.child_id) == (source.pk, batch.number, output.pk)
    containers = forward.containers_of(link)
    assert [c.code for c in containers] == [first.container_code, second.container_code]
    assert [c.net_text for c in containers] == ["250 g", "240 g"]
    assert {c.balance_code for c in containers} == {"BAL-01"} and all(c.at for c in containers)

    backward = trace_lot(output.code, BACKWARD)
    (link,) = backward.links
    assert (link.parent_id, link.child_id) == (output.pk, source.pk)
    assert [c.code for c in backward.containers_of(link)] == [first.container_code, second.container_code]
    assert backward.container_count == forward.container_count == 2

    html = render_tree(forward, lambda code: f"/lots/{code}/")
    # Forward the chain reads: source lot, its container(s), the batch, its output lot.
    assert (
        html.index(source.code) < html.index(first.container_code) < html.index(batch.number) < html.index(output.code)
    )
    html = render_tree(backward, lambda code: f"/lots/{code}/")
    # Backward: output lot, the batch, the container(s) weighed into it, the source lot.
    pos = [html.index(x) for x in (output.code, batch.number, first.container_code, f"/lots/{source.code}/")]
    assert pos == sorted(pos) and "250 g" in html and "BAL-01" in html


def test_trace_queries_do_not_grow_with_containers(sim, bal, line, released, api, batch, users, wh):
    op = users["operator"]
    source, other = released(api, "5"), released(api, "5")
    dispense(sim, bal, batch, line, source, op)
    output = lot_create_output(user=op, batch=batch, quantity="0.2", unit="kg", location=wh)
    one_fwd, n_fwd = count_queries(source.code, FORWARD)
    one_back, n_back = count_queries(output.code, BACKWARD)
    assert one_fwd.container_count == one_back.container_count == 1
    for lot in (source, source, other, other):
        dispense(sim, bal, batch, line, lot, op, net="100.00")
    many_fwd, m_fwd = count_queries(source.code, FORWARD)
    many_back, m_back = count_queries(output.code, BACKWARD)
    assert many_fwd.container_count == 3 and many_back.container_count == 5
    assert m_fwd == n_fwd == 2 and m_back == n_back == 2  # the root lot, the walk with its containers


def test_lot_page_batch_record_and_csv_show_the_containers(sim, bal, line, released, api, batch, users, client_for):
    source = released(api, "5")
    entry = dispense(sim, bal, batch, line, source, users["operator"])
    page = client_for("qc").get(f"/materials/lots/{source.code}/").content.decode()
    assert entry.container_code in page and batch.number in page and "BAL-01" in page
    response = client_for("qc").get(f"/materials/lots/{source.code}/trace.csv?direction=forward")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "containers" and entry.container_code in rows[1][-1] and "250 g" in rows[1][-1]
    page = client_for("qc").get(f"/materials/lots/{source.code}/trace/?direction=forward").content.decode()
    assert entry.container_code in page and "250 g" in page
    rows = trace_lot(source, FORWARD).container_rows()
    assert [(c.code, lot_code, number) for c, lot_code, number in rows] == [
        (entry.container_code, source.code, batch.number)
    ]
    response = client_for("qc").get(f"/materials/lots/{source.code}/recall.pdf?direction=forward")
    assert response.content.startswith(b"%PDF")
    from batches.pdf import record_context

    ledger = record_context(batch)["ledger"]
    assert [getattr(getattr(e, "dispense", None), "container_code", "") for e in ledger] == [entry.container_code]
