"""Errors of the API: always a JSON body with a code, a message and (for 400) the field errors.

Business rules refused by a service (Django ValidationError) become 400s like serializer errors,
a missing record is 404, a refused permission 403. A caller without any credentials is sent to
log in (as for every page); a caller with a bad token gets 401.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from integrations.services.inbox import error_detail


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, exceptions.NotAuthenticated) and request is not None:
        if not request.META.get("HTTP_AUTHORIZATION"):
            return redirect_to_login(request.get_full_path())
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=error_detail(exc))
    elif isinstance(exc, (ObjectDoesNotExist, Http404)):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"code": "invalid", "message": _("The request is not valid."), "errors": errors}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(exc, "default_code", "error")
        response.data = {"code": code, "message": str(detail), "errors": {}}
    return response
