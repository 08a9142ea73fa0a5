"""The materials pages: lists without N+1, receipt, lot detail actions, labels, the issue screen,
and the declared access rule of every URL for every role."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from materials.access import ACCESS
from materials.models import LabelPrint, Lot
from materials.requirements import Requirement, register_provider, requirement_token, unregister_provider
from materials.services import lot_block, on_hand
from mes.roles import ROLES
from tests.materials.conftest import make_material

pytestmark = pytest.mark.django_db


@pytest.mark.req("MAT-4")
def test_lot_list_filters_and_has_no_n_plus_one(
    released, receive, api, excipient, users, client_for, django_assert_max_num_queries
):
    soon = released(api, expiry_date=timezone.localdate() + dt.timedelta(days=10))
    late = released(excipient, expiry_date=timezone.localdate() + dt.timedelta(days=200))
    qua = receive(api)
    blocked = released(excipient)
    lot_block(user=users["warehouse"], lot=blocked, reason="x")
    for i in range(20):
        receive(make_material(f"RM-X{i}"), "1")
    client = client_for("warehouse")
    # session, user, lock-out, permissions (2), groups, filter choices (2), count, page, session save (3):
    # constant, whatever the number of lots (an N+1 would add one query per lot of the 24 listed)
    with django_assert_max_num_queries(13):
        response = client.get("/materials/")
    assert response.status_code == 200 and response.content.decode().count("/materials/lots/") >= 24

    def listed(query):
        html = client.get("/materials/?" + query).content.decode()
        return {lot.code for lot in (soon, late, qua, blocked) if lot.code in html}

    assert listed("status=quarantine") == {qua.code}
    assert listed("status=blocked") == {blocked.code}
    assert listed(f"material={api.pk}") == {soon.code, qua.code}
    assert listed("expires_within=30") == {soon.code}
    assert listed(f"q={late.code}") == {late.code}


@pytest.mark.req("MAT-6", "MAT-1")
def test_receipt_form_creates_the_lot_and_shows_it(api, wh, client_for):
    client = client_for("warehouse")
    assert client.get("/materials/receive/").status_code == 200
    response = client.post(
        "/materials/receive/",
        {
            "material": api.pk,
            "quantity": "125",
            "unit": "kg",
            "containers": 5,
            "supplier": "Keyuan",
            "supplier_lot": "KY-778",
            "expiry_date": (timezone.localdate() + dt.timedelta(days=700)).isoformat(),
            "location": wh.pk,
            "reference": "DN-42",
        },
    )
    lot = Lot.objects.get(supplier_lot="KY-778")
    assert response.status_code == 302 and response["Location"] == f"/materials/lots/{lot.code}/"
    page = client.get(response["Location"]).content.decode()
    assert lot.code in page and "Quarantine" in page and "125 kg" in page
    bad = client.post(
        "/materials/receive/",
        {
            "material": api.pk,
            "quantity": "1",
            "unit": "L",
            "containers": 1,
            "supplier": "x",
            "supplier_lot": "y",
            "location": wh.pk,
        },
    )
    assert bad.status_code == 200 and "cannot be converted" in bad.content.decode()


@pytest.mark.req("MAT-3", "SEC-3")
def test_lot_detail_offers_only_allowed_actions_and_signs_the_release(receive, api, client_for, password, users):
    from quality.seed_evidence import inspection_pass

    lot = receive(api)
    inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)  # the evidence first
    url = f"/materials/lots/{lot.code}/"
    assert 'data-testid="action-release"' not in client_for("warehouse").get(url).content.decode()
    qc = client_for("qc")
    assert 'data-testid="action-release"' in qc.get(url).content.decode()
    qc.post(url, {"op": "status", "action": "release", "password": "wrong"})
    lot.refresh_from_db()
    assert lot.status == "quarantine"
    qc.post(url, {"op": "status", "action": "release", "password": password, "reason": "complies"})
    lot.refresh_from_db()
    assert lot.status == "released"
    assert 'data-testid="signature"' in qc.get(url).content.decode()


@pytest.mark.req("MAT-1")
def test_label_pdf_from_the_page_and_reprint_reason(receive, api, client_for):
    lot = receive(api, containers=2)
    client = client_for("warehouse")
    url = f"/materials/lots/{lot.code}/"
    response = client.post(url, {"op": "labels", "containers": "", "reason": ""})
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    again = client.post(url, {"op": "labels", "containers": "2", "reason": ""})
    assert again.status_code == 200 and "reason" in again.content.decode()
    assert client.post(url, {"op": "labels", "containers": "2", "reason": "torn"}).status_code == 200
    assert list(LabelPrint.objects.filter(lot=lot).values_list("reprint", flat=True)) == [True, False]


@pytest.mark.req("MAT-2")
def test_transfer_and_signed_adjustment_from_the_page(receive, api, wh, wh2, client_for, password):
    lot = receive(api, "10")
    client = client_for("warehouse")
    url = f"/materials/lots/{lot.code}/"
    client.post(url, {"op": "transfer", "from_location": wh.pk, "to_location": wh2.pk, "quantity": "4"})
    client.post(url, {"op": "adjust", "location": wh2.pk, "quantity": "-1", "reason": "count", "password": password})
    assert on_hand(lot, wh) == 6 and on_hand(lot, wh2) == 3


def test_location_pages(receive, api, wh, client_for):
    lot = receive(api, "10")
    client = client_for("planner")
    assert "WH-A" in client.get("/materials/locations/").content.decode()
    assert lot.code in client.get("/materials/locations/WH-A/").content.decode()


@pytest.fixture
def line(api, batch):
    req = Requirement(material=api, quantity=Decimal("50"), unit="kg", tolerance_pct=Decimal(2), line_ref="L1")

    def provider(b):
        return [req] if b.pk == batch.pk else []

    register_provider(provider)
    yield req
    unregister_provider(provider)


@pytest.mark.req("MAT-7", "MAT-8")
def test_scan_first_issue_screen(released, excipient, api, batch, line, client_for):
    good, wrong = released(api, "80"), released(excipient)
    client = client_for("operator")
    url = reverse("materials:issue_screen", kwargs={"number": batch.number})
    page = client.get(url).content.decode()
    token = requirement_token(line, batch)
    assert f"?line={token}" in page  # the line from the provider
    page = client.get(f"{url}?line={token}").content.decode()
    assert "data-scan-field" in page and good.code in page  # scan field and the FEFO suggestion
    refused = client.post(url, {"op": "scan", "line": token, "lot_code": wrong.code})
    assert refused.status_code == 200 and "Wrong material" in refused.content.decode()
    scanned = client.post(url, {"op": "scan", "line": token, "lot_code": good.code + "/001"}).content.decode()
    assert 'data-testid="issue-form"' in scanned and 'name="quantity"' in scanned
    too_much = client.post(url, {"op": "issue", "line": token, "lot_code": good.code, "quantity": "60", "unit": "kg"})
    assert too_much.status_code == 200 and "Too much" in too_much.content.decode()
    done = client.post(url, {"op": "issue", "line": token, "lot_code": good.code, "quantity": "50", "unit": "kg"})
    assert done.status_code == 302 and on_hand(good) == 30
    assert AuditEvent.objects.filter(action="materials.issue_refused").count() == 2
    tampered = client.get(f"{url}?line={token[:-3]}abc")
    assert tampered.status_code == 302


def test_return_waste_and_output_from_the_issue_screen(released, api, batch, line, client_for, wh):
    lot = released(api, "80")
    client = client_for("operator")
    url = reverse("materials:issue_screen", kwargs={"number": batch.number})
    token = requirement_token(line, batch)
    client.post(url, {"op": "issue", "line": token, "lot_code": lot.code, "quantity": "50", "unit": "kg"})
    client.post(
        url, {"op": "return", "line": token, "lot_code": lot.code, "quantity": "2", "unit": "kg", "location": wh.pk}
    )
    client.post(
        url, {"op": "waste", "line": token, "lot_code": lot.code, "quantity": "1", "unit": "kg", "reason": "spilt"}
    )
    response = client.post(url, {"op": "output", "quantity": "45", "unit": "kg", "containers": 2, "location": wh.pk})
    assert response.status_code == 302
    assert on_hand(lot) == 32 and batch.output_lots.get().quantity_received == 45
    balance = client_for("qa").get(f"/materials/batches/{batch.number}/balance/").content.decode()
    assert "47" in balance and "Yield" in balance


@pytest.mark.req("SEC-2")
def test_every_materials_url_answers_each_role_as_declared(released, api, batch, client_for):
    lot = released(api)
    data = {"lot_code": lot.code, "location_code": "WH-A", "batch_number": batch.number}
    for name, rule in ACCESS.items():
        kwargs = rule.make_kwargs(data) if rule.make_kwargs else rule.kwargs
        url = reverse(name, kwargs=kwargs)
        for role in ROLES:
            username = role
            status = client_for(username).get(url).status_code
            expected = 200 if role in rule.roles else 403
            assert status == expected, f"{name} as {role}: {status} (expected {expected})"
