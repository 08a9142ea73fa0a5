"""REST API for the quality records a LIMS or QMS needs: inspections and deviations (list with filters,
detail), and the sample a LIMS logs in; page permissions per account, every call audited, no N+1."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from materials.models import Material
from quality import services as quality
from quality.models import Inspection
from tests.integrations.test_quality_links import _rows
from tests.quality.conftest import make_spec
from tests.quality.lots import location, receive

pytestmark = pytest.mark.req("INT-1", "INT-5")


def _material(users, code):
    from audit.context import audit_context

    with audit_context(actor=users["admin"], action="test.material"):
        return Material.objects.create(code=code, name=code, type="raw", unit="kg", shelf_life_days=365)


@pytest.fixture
def inspections(users, password):
    """Three inspections of two materials (one lot each of A, two of B)."""
    loc = location()
    made = []
    for code, lots in (("RM-QA-A", 1), ("RM-QA-B", 2)):
        material = _material(users, code)
        make_spec(users, password, material)
        made += [Inspection.objects.get(lot=receive(users, material, loc)) for _ in range(lots)]
    return made


def _count(client, url) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def test_inspection_list_filters_without_n_plus_one(db, users, api_for, inspections):
    client = api_for("lims")
    client.get("/api/v1/inspections/")  # permissions cached
    few, _body = _count(client, "/api/v1/inspections/?material=RM-QA-A")
    many, body = _count(client, "/api/v1/inspections/")
    assert few == many and body["count"] == 3
    assert {row["material"] for row in body["results"]} == {"RM-QA-A", "RM-QA-B"}
    _n, body = _count(client, f"/api/v1/inspections/?lot={inspections[1].lot.code}")
    assert [row["number"] for row in body["results"]] == [inspections[1].number]
    _n, body = _count(client, "/api/v1/inspections/?status=in_testing")
    assert body["count"] == 0


def test_inspection_detail_tests_samples_results_in_fixed_queries(db, users, api_for, inspections):
    client = api_for("lims")
    inspection = inspections[0]
    url = f"/api/v1/inspections/{inspection.number}/"
    client.get(url)
    before, body = _count(client, url)
    assert [t["name"] for t in body["tests"]] == ["Assay", "Identification", "Appearance"]
    # The LIMS logs the sample in through the API, then sends results that name it.
    response = client.post(
        f"{url}samples/", data=json.dumps({"quantity": "0.05", "unit": "kg"}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    sample = response.json()["code"]
    pushed = client.post(
        "/api/v1/lims/test-results/", data=json.dumps(_rows(inspection, sample)), content_type="application/json"
    )
    assert pushed.status_code == 201, pushed.content
    after, body = _count(client, url)
    assert after == before and body["status"] == "in_testing"
    assert [s["code"] for s in body["samples"]] == [sample] and body["samples"][0]["taken_by"] == "lims-link"
    assert {r["sample"] for r in body["results"]} == {sample} and len(body["results"]) == 3
    assert {r["entered_by"] for r in body["results"]} == {"lims-link"}


def test_sample_post_is_checked_like_the_page(db, users, api_for, client_for, inspections):
    url = f"/api/v1/inspections/{inspections[0].number}/samples/"

    def post(client, body):
        return client.post(url, data=json.dumps(body), content_type="application/json")

    bad = post(api_for("lims"), {"quantity": "-1", "unit": "kg"})
    assert bad.status_code == 400 and "quantity" in bad.json()["errors"]
    assert post(api_for("lims"), {"unit": "kg"}).status_code == 400
    assert post(api_for("qms"), {"quantity": "1", "unit": "kg"}).status_code == 403  # QA may read, not sample
    assert client_for("auditor").get(f"/api/v1/inspections/{inspections[0].number}/").status_code == 200
    assert client_for("operator").get("/api/v1/inspections/").status_code == 403
    missing = api_for("lims").post(
        "/api/v1/inspections/INS-NOPE/samples/",
        data=json.dumps({"quantity": "1", "unit": "kg"}),
        content_type="application/json",
    )
    assert missing.status_code == 404
    assert not inspections[0].samples.exists()
    event = AuditEvent.objects.filter(action="integrations.api.post").latest("seq")
    assert event.username == "lims-link" and json.loads(event.new_values)["status"] == 404


@pytest.fixture
def deviations(users, password):
    made = []
    for i, classification in enumerate(("minor", "major", "major")):
        made.append(
            quality.deviation_raise(
                user=users["operator"],
                title=f"Deviation {i}",
                description="What happened",
                classification=classification,
                links=[("batches.batch", 100 + i, f"B-API-{i}")],
            )
        )
    quality.capa_create(
        user=users["qa"],
        deviation_id=made[1].pk,
        kind="corrective",
        action="Retrain",
        owner=users["supervisor"],
        due_date=made[1].raised_at.date().replace(year=made[1].raised_at.year + 1),
    )
    return made


def test_deviation_list_filters_without_n_plus_one(db, api_for, deviations):
    client = api_for("qms")
    client.get("/api/v1/deviations/")
    few, _body = _count(client, "/api/v1/deviations/?classification=minor")
    many, body = _count(client, "/api/v1/deviations/")
    assert few == many and body["count"] == 3
    assert body["results"][0]["links"][0]["type"] == "batches.batch"
    _n, body = _count(client, "/api/v1/deviations/?record=B-API-1")
    assert [row["number"] for row in body["results"]] == [deviations[1].number]
    _n, body = _count(client, "/api/v1/deviations/?status=closed&source=manual")
    assert body["count"] == 0


def test_deviation_detail_shows_capas_to_those_who_may_read_them(db, api_for, client_for, deviations):
    url = f"/api/v1/deviations/{deviations[1].number}/"
    body = api_for("qms").get(url).json()
    assert body["description"] == "What happened" and [c["action"] for c in body["capas"]] == ["Retrain"]
    assert body["capas"][0]["owner"] == "supervisor"
    operator = client_for("operator").get(url)
    assert operator.status_code == 200 and operator.json()["capas"] == []
    assert client_for("planner").get(url).status_code == 403
    assert api_for("qms").get("/api/v1/deviations/DEV-NOPE/").status_code == 404
    assert AuditEvent.objects.filter(action="integrations.api.get", username="qms-link").count() >= 2


def test_new_endpoints_are_in_the_schema(db, client_for):
    spec = client_for("qa").get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/inspections/",
        "/api/v1/inspections/{number}/",
        "/api/v1/inspections/{number}/samples/",
        "/api/v1/deviations/",
        "/api/v1/deviations/{number}/",
    ):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/inspections/{number}/samples/"]["post"]["tags"] == ["Quality"]
