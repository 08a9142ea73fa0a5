"""The scan-first issue screen as an operator meets it at the start of a shift: a second person signs
with their own user ID, and a refused scan never stays in the scan field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from audit.models import Signature
from audit.signatures import SESSION_KEY
from materials.models import LedgerEntry
from materials.requirements import Requirement, register_provider, requirement_token, unregister_provider
from tests.browser_fixtures import login, screenshot


@pytest.fixture
def line(api, batch):
    req = Requirement(material=api, quantity=Decimal("50"), unit="kg", tolerance_pct=Decimal(2), second_person=True)

    def provider(b):
        return [req] if b.pk == batch.pk else []

    register_provider(provider)
    yield req
    unregister_provider(provider)


@pytest.mark.req("MAT-7", "SEC-3")
@override_settings(MES_SIGNATURE_FULL_FIRST=True)
def test_second_person_issue_works_in_the_first_minute_of_a_session(
    client, users, password, released, api, batch, line
):
    lot = released(api, "100")
    client.force_login(users["operator"])  # a fresh session: nothing signed in it yet
    url = reverse("materials:issue_screen", kwargs={"number": batch.number})
    token = requirement_token(line, batch)
    page = client.post(url, {"op": "scan", "line": token, "lot_code": lot.code}).content.decode()
    assert 'data-testid="issue-form"' in page
    data = {
        "op": "issue",
        "line": token,
        "lot_code": lot.code,
        "quantity": "50",
        "unit": "kg",
        "verifier": "operator2",
        "verifier_password": password,
    }
    r = client.post(url, data, follow=True).content.decode()
    assert "user ID and password" not in r
    entry = LedgerEntry.objects.get(batch=batch, lot=lot)
    assert entry.verified_by == users["operator2"]
    assert Signature.objects.get(object_type="materials.ledgerentry", object_id=str(entry.pk)).username == "operator2"
    # The verifier's signing does not count as the operator's own first complete signing.
    assert not client.session.get(SESSION_KEY)


@pytest.mark.req("MAT-7")
def test_a_refused_scan_leaves_the_scan_field_empty(client, users, released, api, excipient, batch, line):
    wrong = released(excipient, "10")
    client.force_login(users["operator"])
    url = reverse("materials:issue_screen", kwargs={"number": batch.number})
    page = client.post(url, {"op": "scan", "line": requirement_token(line, batch), "lot_code": wrong.code})
    html = page.content.decode()
    assert 'data-testid="refusal"' in html
    assert f'value="{wrong.code}"' not in html and 'name="lot_code" id="id_lot_code"' in html


@pytest.mark.browser
@pytest.mark.req("MAT-7")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_scanner_after_a_refused_scan_types_into_an_empty_focused_field(
    new_page, users, password, released, api, excipient, batch, line, language
):
    right, wrong = released(api, "100"), released(excipient, "10")
    page, problems = new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(page, "operator", password)
    page.wait_for_load_state("load")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    page.goto(f"/materials/issue/{batch.number}/?line={requirement_token(line, batch)}")
    page.wait_for_selector("[name=lot_code]:focus")
    page.keyboard.type(f"{wrong.code}\n")  # a keyboard-wedge scanner: the code, then Enter
    page.wait_for_selector("[data-testid=refusal]")
    page.wait_for_selector("[name=lot_code]:focus")
    assert page.input_value("#id_lot_code") == ""
    screenshot(page, f"materials-issue-refused-scan-{language}")
    page.keyboard.type(f"{right.code}\n")  # the next scan is read on its own, not appended to the last
    page.wait_for_selector("[data-testid=issue-form]")
    screenshot(page, f"materials-issue-second-person-{language}")
    problems.check()
