"""System check (`manage.py check --deploy`): the runtime database role holds least privilege and the
audit guards are in place; the audit key ring is there."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection

from audit.dbroles import runtime_role_problems
from audit.keys import key_ring


@register(Tags.database, deploy=True)
def check_runtime_role(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    try:
        problems = runtime_role_problems(connection)
    except DatabaseError as exc:  # no database yet: nothing to say about its roles
        problems = [] if "does not exist" in str(exc) else [f"could not inspect the database roles: {exc}"]
    errors += [Error(problem, id="audit.E001") for problem in problems]
    try:
        key_ring()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="audit.E002"))
    return errors
