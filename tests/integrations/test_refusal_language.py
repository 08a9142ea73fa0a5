"""A refused inbound message: the refusal is stored once, in English, whatever the Accept-Language of
the call that delivered it; the API answers in the caller's language and the message log shows it in
each reader's language (issue 17, Language)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import translation

from integrations.models import InboxMessage, InboxStatus
from mes.generated import localized_errors, localized_message

pytestmark = pytest.mark.django_db

RESULTS = {
    "results": [
        {
            "request_id": "TR-9",
            "sample_id": "S-9",
            "test_code": "ASSAY",
            "value": "99.2",
            "unit": "%",
            "tested_at": "2026-03-01T08:00:00Z",
        }
    ]
}


def test_a_refusal_is_stored_in_english_answered_in_the_callers_language_and_shown_in_the_readers(api_for, client_for):
    response = api_for("lims").post(
        "/api/v1/lims/test-results/",
        data=json.dumps(RESULTS),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    answer = response.json()
    assert "MES 中没有检验 TR-9。" in json.dumps(answer["errors"], ensure_ascii=False)  # in the caller's language
    assert "No inspection" not in json.dumps(answer, ensure_ascii=False)
    message = InboxMessage.objects.get(pk=answer["inbox_message"])
    assert message.status == InboxStatus.FAILED
    assert "No inspection TR-9 in the MES." in message.last_error  # stored in English
    assert "检验" not in message.last_error
    admin = client_for("admin")
    url = reverse("integrations:inbox_detail", kwargs={"pk": message.pk})
    admin.cookies["django_language"] = "zh-hans"
    assert "MES 中没有检验 TR-9。" in admin.get(url).content.decode()
    admin.cookies["django_language"] = "en"
    assert "No inspection TR-9 in the MES." in admin.get(url).content.decode()


def test_a_stored_english_refusal_reads_in_chinese_through_the_catalogue():
    """Refusals are not declared one by one: any catalogue message with its values is recognised."""
    with translation.override("zh-hans"):
        assert localized_message("No inspection TR-1 in the MES.") == "MES 中没有检验 TR-1。"
        assert localized_errors('{"results": ["No inspection TR-1 in the MES."]}') == ["results: MES 中没有检验 TR-1。"]
        assert (
            localized_message("0.request_id: No inspection TR-1 in the MES.") == "0.request_id: MES 中没有检验 TR-1。"
        )
        assert localized_message("typed by a person") == "typed by a person"
    assert localized_message("No inspection TR-1 in the MES.") == "No inspection TR-1 in the MES."
