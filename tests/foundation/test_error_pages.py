"""The error pages render without the database: they are what a user sees when it failed."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import translation

from mes.views import error_500


def _page_for(exc: Exception, language: str = "en"):
    request = RequestFactory().get("/equipment/")
    with translation.override(language):
        try:
            raise exc
        except Exception:  # noqa: BLE001 - the handler runs while the exception is being handled
            return error_500(request)


@pytest.mark.django_db
def test_a_lost_database_gives_the_503_page_in_the_users_language_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        english = _page_for(OperationalError("server closed the connection unexpectedly"))
        chinese = _page_for(OperationalError("connection refused"), "zh-hans")
    assert english.status_code == 503 and english["Retry-After"] == "5"
    assert "The system is briefly unavailable" in english.content.decode()
    assert chinese.status_code == 503 and "系统暂时不可用" in chinese.content.decode()
    assert "Traceback" not in english.content.decode()


@pytest.mark.django_db
def test_any_other_failure_gives_the_500_page_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = _page_for(ValueError("a bug"))
    assert page.status_code == 500 and "Something went wrong on our side" in page.content.decode()


@pytest.mark.django_db
def test_an_interrupted_session_is_a_plain_400_while_the_database_is_up():
    """Only a session lost to a database outage becomes the 503 page (tests/faults covers that one)."""
    from django.contrib.sessions.exceptions import SessionInterrupted

    from mes.views import error_400

    page = error_400(RequestFactory().get("/equipment/"), SessionInterrupted("deleted meanwhile"))
    assert page.status_code == 400
