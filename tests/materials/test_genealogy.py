"""Genealogy: edges written at consumption, traced backward and forward through many levels with a
constant number of queries, on a hand-built graph with shared lots and shared batches."""

import csv
import io

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from materials.genealogy import BACKWARD, FORWARD, render_tree, trace_lot

pytestmark = pytest.mark.django_db


def codes(trace, graph):
    names = {code: name for name, code in graph.items()}
    return {names[n.code] for n in trace.lots.values() if n.id != trace.root.id}


def batches(trace):
    return {link.batch_number for link in trace.links}


@pytest.mark.req("MAT-9", "MAT-8")
def test_backward_trace_of_a_finished_lot_reaches_every_raw_lot_in_two_queries(graph, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        trace = trace_lot(graph["F1"], BACKWARD)
    assert codes(trace, graph) == {"K1", "K2", "I1", "I2", "R1", "R2", "R3", "R4"}
    assert batches(trace) == {"P1", "C1", "C2", "G1", "G2"}
    assert trace.levels()[trace.lots[next(i for i, n in trace.lots.items() if n.code == graph["R2"])].id] == 3


@pytest.mark.req("MAT-9")
def test_forward_trace_of_a_raw_lot_answers_the_recall_question(graph, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        trace = trace_lot(graph["R1"], FORWARD)
    assert codes(trace, graph) == {"I1", "I2", "K1", "K2", "F1"}
    assert batches(trace) == {"G1", "G2", "C1", "C2", "P1", "P2"}  # P2 has made nothing yet, but used it
    narrow = trace_lot(graph["R3"], FORWARD)
    assert codes(narrow, graph) == {"I1", "K1", "F1"} and batches(narrow) == {"G1", "C1", "P1"}
    assert codes(trace_lot(graph["R2"], BACKWARD), graph) == set()


def test_each_edge_is_listed_once_even_where_sub_trees_are_shared(graph):
    trace = trace_lot(graph["F1"], BACKWARD)
    rows = list(trace.rows())
    assert len(rows) == len({(link.parent_id, link.batch_id, link.child_id) for _, link, _ in rows}) == 10
    html = render_tree(trace, lambda code: f"/lots/{code}/")
    for code in graph.values():
        assert code in html
    assert "<details" in html and "shown above" in html


@pytest.mark.req("MAT-9")
def test_trace_lot_command_prints_the_same(graph, capsys):
    call_command("trace_lot", graph["R1"], "--forward")
    out = capsys.readouterr().out
    assert graph["F1"] in out and "P2" in out and "5 lots, 6 batches (forward)" in out
    call_command("trace_lot", graph["F1"])
    assert graph["R4"] in capsys.readouterr().out


@pytest.mark.req("MAT-9", "AUD-1")
def test_trace_page_csv_and_recall_pdf(graph, client_for, django_assert_max_num_queries):
    client = client_for("qc")
    response = client.get(f"/materials/lots/{graph['R1']}/trace/?direction=forward")
    assert response.status_code == 200 and graph["F1"] in response.content.decode()
    with django_assert_max_num_queries(12):  # session, user, lock-out, permissions, session save; trace: 2
        client.get(f"/materials/lots/{graph['F1']}/trace/")
    response = client.get(f"/materials/lots/{graph['F1']}/trace.csv?direction=backward")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "level" and len(rows) == 11 and {graph["R2"], graph["R4"]} <= {r[4] for r in rows}
    response = client.get(f"/materials/lots/{graph['R1']}/recall.pdf?direction=forward")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="materials.trace.export").count() == 2
    assert client_for("operator").get(f"/materials/lots/{graph['R1']}/trace/").status_code == 403


def test_trace_csv_neutralises_a_formula_in_a_material_name(graph, client_for):
    """CSV injection (issue 15): a name beginning with "=" reaches the export as text, not a formula."""
    from audit.context import audit_context
    from materials.models import Lot
    from mes.changecontrol import controlled_writes

    material = Lot.objects.get(code=graph["R2"]).material
    material.name = '=HYPERLINK("http://evil.example","x")'
    # arranging the hostile name (as an approved change would), not testing change control
    with controlled_writes("test: a hostile material name"), audit_context(action="test.material.rename"):
        material.save()
    response = client_for("qc").get(f"/materials/lots/{graph['F1']}/trace.csv?direction=backward")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = {r[6] for r in rows[1:]}
    assert "'" + material.name in names and material.name not in names
