"""Property-based run of the whole API against its own OpenAPI schema (schemathesis, bounded):
no server error, no response outside the documented schema or content type."""

from __future__ import annotations

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from mes.wsgi import application

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes DB connections after each request (as in production); the test's
    transaction lives on that connection, so keep it open, as Django's own test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, users, keep_test_connection):
    """One account holding every role the API serves, so every endpoint is exercised."""
    from integrations.services import integration_account_create

    _account, token = integration_account_create(
        actor=users["admin"],
        username="fuzz-link",
        system="other",
        roles=["admin", "planner", "qc", "qa", "warehouse"],
    )
    return token


@pytest.mark.req("INT-1", "INT-2", "INT-4", "INT-5")
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
